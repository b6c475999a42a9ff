"""Keypoint tables -> Human3.6M-17: weights, sides, derived joints, scores, absent joints, real annotations."""

import json

import numpy as np
import pytest

from detector_adapters.base import KEYPOINT_FORMATS, DetectedPerson
from detector_adapters.keypoint_mapping import (
    COCO17_NAMES,
    COCO17_TO_H36M17,
    H36M17,
    H36M17_NAMES,
    H36M17_TO_H36M17,
    LSP14_NAMES,
    LSP14_TO_H36M17,
    MAPPINGS,
    MEDIAPIPE33_NAMES,
    MEDIAPIPE33_TO_COCO17,
    MEDIAPIPE33_TO_H36M17,
    MPII16_NAMES,
    MPII16_TO_H36M17,
    KeypointMapping,
    map_keypoints,
    to_h36m17,
)
from lifter.skeleton import JOINT_NAMES, LEFT_JOINTS, RIGHT_JOINTS

H36M = {name: i for i, name in enumerate(JOINT_NAMES)}
MPII = {name: i for i, name in enumerate(MPII16_NAMES)}
RULES = dict(zip(JOINT_NAMES, MPII16_TO_H36M17.rules))
DERIVED = [name for name, rule in RULES.items() if len(rule) > 1]


def random_keypoints(n: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1000, size=(n, 16, 2))


def test_table_covers_the_17_joints_with_known_sources():
    assert len(MPII16_TO_H36M17.rules) == 17
    assert MPII16_TO_H36M17.source_names == MPII16_NAMES
    for rule in MPII16_TO_H36M17.rules:
        for name, _ in rule:
            assert name in MPII16_NAMES


def test_every_rule_weights_sum_to_one_and_are_positive():
    """A weighted mean: weights > 0 summing to 1 (else the joint drifts towards the image origin)."""
    for name, rule in RULES.items():
        assert sum(w for _, w in rule) == pytest.approx(1.0), name
        assert all(w > 0 for _, w in rule), name
    np.testing.assert_allclose(MPII16_TO_H36M17.weight_matrix().sum(1), np.ones(17))


def test_left_and_right_joints_keep_their_side():
    """H36M LShoulder from MPII LShoulder, RFoot from RAnkle, ...: no left/right swap."""
    for j in LEFT_JOINTS:
        sources = [name for name, _ in MPII16_TO_H36M17.rules[j]]
        assert all(s.startswith("L") for s in sources), (JOINT_NAMES[j], sources)
    for j in RIGHT_JOINTS:
        sources = [name for name, _ in MPII16_TO_H36M17.rules[j]]
        assert all(s.startswith("R") for s in sources), (JOINT_NAMES[j], sources)


@pytest.mark.parametrize(
    "h36m, mpii",
    [
        ("Hip", "Pelvis"),
        ("RHip", "RHip"),
        ("RKnee", "RKnee"),
        ("RFoot", "RAnkle"),
        ("LHip", "LHip"),
        ("LKnee", "LKnee"),
        ("LFoot", "LAnkle"),
        ("Thorax", "UpperNeck"),
        ("LShoulder", "LShoulder"),
        ("LElbow", "LElbow"),
        ("LWrist", "LWrist"),
        ("RShoulder", "RShoulder"),
        ("RElbow", "RElbow"),
        ("RWrist", "RWrist"),
    ],
)
def test_direct_joints_copy_their_source(h36m, mpii):
    keypoints = random_keypoints(seed=1)
    mapped, _ = map_keypoints(MPII16_TO_H36M17, keypoints)
    np.testing.assert_allclose(mapped[:, H36M[h36m]], keypoints[:, MPII[mpii]])


@pytest.mark.parametrize(
    "h36m, sources",
    [("Spine", ("Pelvis", "Thorax")), ("Neck/Nose", ("UpperNeck", "HeadTop")), ("Head", ("UpperNeck", "HeadTop"))],
)
def test_derived_joints_lie_on_segment_between_sources(h36m, sources):
    """|a - m| + |m - b| = |a - b|: the derived joint sits on the segment, not beyond its ends."""
    assert h36m in DERIVED
    assert {name for name, _ in RULES[h36m]} == set(sources)
    keypoints = random_keypoints(seed=2)
    mapped, _ = map_keypoints(MPII16_TO_H36M17, keypoints)
    a, b = keypoints[:, MPII[sources[0]]], keypoints[:, MPII[sources[1]]]
    m = mapped[:, H36M[h36m]]
    along = np.linalg.norm(a - m, axis=-1) + np.linalg.norm(m - b, axis=-1)
    np.testing.assert_allclose(along, np.linalg.norm(a - b, axis=-1), rtol=1e-9)
    assert np.all(np.linalg.norm(m - a, axis=-1) > 0) and np.all(np.linalg.norm(m - b, axis=-1) > 0)


def test_neck_nose_between_thorax_and_head():
    """Along the upper neck -> head top line: Thorax, then Neck/Nose, then Head."""
    weights = {name: dict(rule).get("HeadTop", 0.0) for name, rule in RULES.items()}
    assert weights["Thorax"] < weights["Neck/Nose"] < weights["Head"] < 1.0


def test_derived_joint_score_is_min_of_its_sources():
    scores = np.random.default_rng(3).uniform(0.2, 1.0, size=(4, 16))
    _, mapped = map_keypoints(MPII16_TO_H36M17, random_keypoints(4, seed=3), scores)
    assert mapped.shape == (4, 17)
    for name in DERIVED:
        sources = [MPII[s] for s, _ in RULES[name]]
        np.testing.assert_allclose(mapped[:, H36M[name]], scores[:, sources].min(1))
    np.testing.assert_allclose(mapped[:, H36M["LShoulder"]], scores[:, MPII["LShoulder"]])


def test_zero_score_only_affects_joints_that_use_the_source():
    """HeadTop at score 0 zeroes Neck/Nose and Head but leaves Spine, Thorax and the rest alone."""
    scores = np.full(16, 0.9)
    scores[MPII["Pelvis"]] = 0.5
    scores[MPII["HeadTop"]] = 0.0
    _, mapped = map_keypoints(MPII16_TO_H36M17, random_keypoints(1, seed=4)[0], scores)
    assert mapped[H36M["Neck/Nose"]] == 0.0
    assert mapped[H36M["Head"]] == 0.0
    assert mapped[H36M["Spine"]] == 0.5  # min(Pelvis 0.5, Thorax 0.9)
    assert mapped[H36M["Hip"]] == 0.5
    assert mapped[H36M["Thorax"]] == 0.9
    others = [i for i, n in enumerate(JOINT_NAMES) if n not in ("Neck/Nose", "Head", "Spine", "Hip")]
    np.testing.assert_allclose(mapped[others], 0.9)


def test_without_scores_every_joint_is_fully_confident():
    _, mapped = map_keypoints(MPII16_TO_H36M17, random_keypoints(3, seed=5))
    np.testing.assert_allclose(mapped, np.ones((3, 17)))


# ---------------------------------------------------------------- real MPII annotations


@pytest.fixture(scope="module")
def mpii_annotations(data_dir):
    path = data_dir / "fixtures" / "mpii" / "test_mpii.json"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    with open(path) as f:
        people = json.load(f)
    assert people, "no annotations"
    return people


def test_real_mpii_shoulders_keep_their_image_side(mpii_annotations):
    """Whether the person faces the camera or turns away, LShoulder stays on the annotated side of RShoulder."""
    for person in mpii_annotations:
        joints = np.asarray(person["joints"], dtype=np.float64)  # (16, 2) pixels, MPII order
        mapped, _ = map_keypoints(MPII16_TO_H36M17, joints)
        annotated = np.sign(joints[MPII["LShoulder"], 0] - joints[MPII["RShoulder"], 0])
        assert annotated != 0
        assert np.sign(mapped[H36M["LShoulder"], 0] - mapped[H36M["RShoulder"], 0]) == annotated, person["image"]


def test_real_mpii_head_above_thorax_for_upright_people(mpii_annotations):
    """Image y grows downwards: Head < Neck/Nose < Thorax < Spine < Hip in y for an upright person."""
    upright = 0
    for person in mpii_annotations:
        joints = np.asarray(person["joints"], dtype=np.float64)
        vis = np.asarray(person["joints_vis"])
        needed = [MPII[n] for n in ("Pelvis", "Thorax", "UpperNeck", "HeadTop")]
        y = joints[:, 1]
        if not vis[needed].all() or not (y[MPII["HeadTop"]] < y[MPII["UpperNeck"]] < y[MPII["Pelvis"]]):
            continue
        upright += 1
        mapped, _ = map_keypoints(MPII16_TO_H36M17, joints, vis.astype(np.float64))
        my = mapped[:, 1]
        assert my[H36M["Head"]] < my[H36M["Neck/Nose"]] < my[H36M["Thorax"]], person["image"]
        assert my[H36M["Spine"]] < my[H36M["Hip"]], person["image"]
    assert upright >= 1


def test_real_mpii_invisible_joints_get_zero_score(mpii_annotations):
    """joints_vis used as scores: an unannotated MPII ankle gives its H36M foot score 0, nothing else."""
    zero_scores = 0
    for person in mpii_annotations:
        joints = np.asarray(person["joints"], dtype=np.float64)
        vis = np.asarray(person["joints_vis"], dtype=np.float64)
        _, scores = map_keypoints(MPII16_TO_H36M17, joints, vis)
        expected = np.array([min(vis[MPII[s]] for s, _ in RULES[name]) for name in JOINT_NAMES])
        np.testing.assert_array_equal(scores, expected)
        zero_scores += int((scores == 0).sum())
    assert zero_scores > 0  # the fixture has people with unannotated ankles


# ======================================================== every format -> H36M-17 (pure)


SIZES = {"coco17": 17, "mpii16": 16, "lsp14": 14, "mediapipe33": 33, "h36m17": 17}
CENTRE_JOINTS = [name for i, name in enumerate(JOINT_NAMES) if i not in LEFT_JOINTS + RIGHT_JOINTS]


def mirror(name: str) -> str:
    """LHip <-> RHip; names without a side stay."""
    if name[:1] in "LR" and name[1:2].isupper():
        return ("R" if name[0] == "L" else "L") + name[1:]
    return name


def test_name_tables_have_the_format_sizes_and_no_duplicates():
    tables = {"coco17": COCO17_NAMES, "mpii16": MPII16_NAMES, "lsp14": LSP14_NAMES,
              "mediapipe33": MEDIAPIPE33_NAMES, "h36m17": H36M17_NAMES}  # fmt: skip
    for fmt, names in tables.items():
        assert len(names) == SIZES[fmt] == len(set(names)), fmt
    assert H36M17 == H36M17_NAMES == JOINT_NAMES
    # Spot checks of the published orders (COCO: nose first, ankles last; LSP: ankle first, head top last).
    assert COCO17_NAMES[:3] == ("Nose", "LEye", "REye") and COCO17_NAMES[-1] == "RAnkle"
    assert LSP14_NAMES[0] == "RAnkle" and LSP14_NAMES[12:] == ("Neck", "HeadTop")
    assert MEDIAPIPE33_NAMES[11:13] == ("LShoulder", "RShoulder") and MEDIAPIPE33_NAMES[23:25] == ("LHip", "RHip")


def test_mediapipe_coco_subset_is_the_coco_order():
    assert len(MEDIAPIPE33_TO_COCO17) == 17
    assert tuple(MEDIAPIPE33_NAMES[i] for i in MEDIAPIPE33_TO_COCO17) == COCO17_NAMES


def test_mappings_cover_every_keypoint_format():
    assert set(MAPPINGS) == set(KEYPOINT_FORMATS)
    for fmt, mapping in MAPPINGS.items():
        assert mapping.source_format == fmt
        assert len(mapping.source_names) == SIZES[fmt]
        assert len(mapping.rules) == 17


@pytest.mark.parametrize("fmt", sorted(SIZES))
def test_every_table_sums_to_one_per_joint(fmt):
    np.testing.assert_allclose(MAPPINGS[fmt].weight_matrix().sum(1), np.ones(17), atol=1e-12)


@pytest.mark.parametrize("fmt", sorted(SIZES))
def test_limb_joints_copy_the_same_side(fmt):
    """Every left H36M joint is one source joint of the same side with weight 1 (Foot = ankle), and right alike."""
    for j in LEFT_JOINTS + RIGHT_JOINTS:
        rule = MAPPINGS[fmt].rules[j]
        assert len(rule) == 1 and rule[0][1] == 1.0, (fmt, JOINT_NAMES[j], rule)
        source = rule[0][0]
        assert source[0] == JOINT_NAMES[j][0], (fmt, JOINT_NAMES[j], source)
        assert source[1:] == JOINT_NAMES[j][1:].replace("Foot", "Ankle") or fmt == "h36m17"


@pytest.mark.parametrize("fmt", sorted(SIZES))
def test_centre_joints_weigh_left_and_right_alike(fmt):
    """A centre joint (Hip, Spine, Thorax, Neck/Nose, Head) must not lean to one side: the weight of
    every left source equals that of its right twin, so mirroring the person mirrors the joint."""
    for name in CENTRE_JOINTS:
        rule = dict(MAPPINGS[fmt].rules[JOINT_NAMES.index(name)])
        for source, weight in rule.items():
            assert rule.get(mirror(source)) == pytest.approx(weight), (fmt, name, rule)


@pytest.mark.parametrize("fmt", sorted(SIZES))
def test_mirrored_person_maps_to_mirrored_joints(fmt):
    """Flip the image horizontally and swap left/right names: the mapped joints flip and swap too."""
    mapping = MAPPINGS[fmt]
    keypoints = np.random.default_rng(11).uniform(0, 500, size=(len(mapping.source_names), 2))
    flipped = keypoints * [-1, 1]
    swapped = flipped[[mapping.source_names.index(mirror(n)) for n in mapping.source_names]]
    mapped, _ = map_keypoints(mapping, keypoints)
    mapped_mirror, _ = map_keypoints(mapping, swapped)
    expected = (mapped * [-1, 1])[[JOINT_NAMES.index(mirror(n)) for n in JOINT_NAMES]]
    np.testing.assert_allclose(mapped_mirror, expected, atol=1e-9)


def test_h36m_identity_table():
    keypoints = np.random.default_rng(12).uniform(0, 500, size=(3, 17, 2))
    scores = np.random.default_rng(13).uniform(0, 1, size=(3, 17))
    mapped, mapped_scores = map_keypoints(H36M17_TO_H36M17, keypoints, scores)
    np.testing.assert_array_equal(mapped, keypoints)
    np.testing.assert_array_equal(mapped_scores, scores)


def test_mediapipe_rules_are_the_coco_rules_on_its_coco_subset():
    """MediaPipe and COCO put every H36M joint at the same place from the same 17 points."""
    mediapipe = MEDIAPIPE33_TO_H36M17.weight_matrix()
    np.testing.assert_array_equal(mediapipe[:, list(MEDIAPIPE33_TO_COCO17)], COCO17_TO_H36M17.weight_matrix())
    others = np.setdiff1d(np.arange(33), MEDIAPIPE33_TO_COCO17)
    assert not mediapipe[:, others].any()
    keypoints = np.random.default_rng(14).uniform(0, 500, size=(33, 2))
    np.testing.assert_allclose(
        map_keypoints(MEDIAPIPE33_TO_H36M17, keypoints)[0],
        map_keypoints(COCO17_TO_H36M17, keypoints[list(MEDIAPIPE33_TO_COCO17)])[0],
    )


def test_lsp_rules_reuse_the_mpii_rules_with_neck_for_upper_neck():
    mpii = {name: dict(rule) for name, rule in zip(JOINT_NAMES, MPII16_TO_H36M17.rules)}
    lsp = {name: dict(rule) for name, rule in zip(JOINT_NAMES, LSP14_TO_H36M17.rules)}
    for name in ("Thorax", "Neck/Nose", "Head"):
        renamed = {("Neck" if s == "UpperNeck" else s): w for s, w in mpii[name].items()}
        assert lsp[name] == renamed, name


def test_derived_face_joints_ordered_from_shoulders_to_eyes():
    """For an upright frontal face: Head above Neck/Nose above Thorax above Spine above Hip."""
    # A schematic frontal stick figure in pixels (made up, not data).
    coco = {
        "Nose": (100, 52),
        "LEye": (106, 45),
        "REye": (94, 45),
        "LEar": (112, 48),
        "REar": (88, 48),
        "LShoulder": (125, 90),
        "RShoulder": (75, 90),
        "LElbow": (130, 130),
        "RElbow": (70, 130),
        "LWrist": (132, 165),
        "RWrist": (68, 165),
        "LHip": (115, 180),
        "RHip": (85, 180),
        "LKnee": (116, 240),
        "RKnee": (84, 240),
        "LAnkle": (117, 300),
        "RAnkle": (83, 300),
    }
    mapped, _ = map_keypoints(COCO17_TO_H36M17, np.array([coco[n] for n in COCO17_NAMES], dtype=float))
    y = {name: mapped[H36M[name], 1] for name in ("Head", "Neck/Nose", "Thorax", "Spine", "Hip")}
    assert y["Head"] < y["Neck/Nose"] < y["Thorax"] < y["Spine"] < y["Hip"]
    np.testing.assert_allclose(mapped[[H36M[n] for n in ("Head", "Neck/Nose", "Thorax", "Spine", "Hip")], 0], 100)


# ------------------------------------------------------------ map_keypoints: scores, NaN

NEGATIVE_HEAD = KeypointMapping(
    "coco17",
    COCO17_NAMES,
    tuple(
        (("LEye", 1.0), ("REye", 1.0), ("Nose", -1.0)) if name == "Head" else rule
        for name, rule in zip(JOINT_NAMES, COCO17_TO_H36M17.rules)
    ),
)


def test_negative_weights_propagate_scores():
    """An extrapolating rule (Head = LEye + REye - Nose) is no more confident than its nose."""
    scores = np.full(17, 0.9)
    scores[COCO17_NAMES.index("Nose")] = 0.2
    keypoints = np.random.default_rng(15).uniform(0, 500, size=(17, 2))
    mapped, mapped_scores = map_keypoints(NEGATIVE_HEAD, keypoints, scores)
    assert mapped_scores[H36M["Head"]] == 0.2
    c = {name: keypoints[i] for i, name in enumerate(COCO17_NAMES)}
    np.testing.assert_allclose(mapped[H36M["Head"]], c["LEye"] + c["REye"] - c["Nose"])


def test_invalid_tables_are_refused():
    rules = list(COCO17_TO_H36M17.rules)
    with pytest.raises(ValueError, match="sum to 1"):
        KeypointMapping("coco17", COCO17_NAMES, tuple([(("LEye", 0.6),)] + rules[1:]))
    with pytest.raises(ValueError, match="unknown source"):
        KeypointMapping("coco17", COCO17_NAMES, tuple([(("Pelvis", 1.0),)] + rules[1:]))
    with pytest.raises(ValueError, match="rules for 17"):
        KeypointMapping("coco17", COCO17_NAMES, tuple(rules[:16]))


@pytest.mark.parametrize("mapping", [COCO17_TO_H36M17, NEGATIVE_HEAD, LSP14_TO_H36M17, MPII16_TO_H36M17],
                         ids=["coco", "coco-negative", "lsp", "mpii"])  # fmt: skip
def test_absent_source_makes_exactly_its_users_absent(mapping):
    """A NaN source joint: every H36M joint that uses it (any weight != 0) is NaN with score 0; the
    others are finite with their usual scores. NaN * 0 must not leak into joints that do not use it."""
    weights = mapping.weight_matrix()
    rng = np.random.default_rng(16)
    for s, source in enumerate(mapping.source_names):
        keypoints = rng.uniform(0, 500, size=(len(mapping.source_names), 2))
        keypoints[s] = np.nan
        scores = np.full(len(mapping.source_names), 0.8)
        scores[s] = 0.0
        mapped, mapped_scores = map_keypoints(mapping, keypoints, scores)
        users = weights[:, s] != 0
        assert np.isnan(mapped[users]).all(), source
        assert np.isfinite(mapped[~users]).all(), source
        np.testing.assert_array_equal(mapped_scores[users], 0.0)
        np.testing.assert_array_equal(mapped_scores[~users], 0.8)


def test_absent_source_without_scores_gets_score_zero():
    keypoints = np.random.default_rng(17).uniform(0, 500, size=(2, 17, 2))
    keypoints[1, COCO17_NAMES.index("LEye")] = np.nan
    mapped, scores = map_keypoints(COCO17_TO_H36M17, keypoints)
    assert np.isfinite(mapped[0]).all() and (scores[0] == 1).all()
    users = {name for name, rule in zip(JOINT_NAMES, COCO17_TO_H36M17.rules) if "LEye" in dict(rule)}
    assert users == {"Neck/Nose", "Head"}
    for name in JOINT_NAMES:
        assert (scores[1, H36M[name]] == 0) == (name in users), name
        assert np.isnan(mapped[1, H36M[name]]).all() == (name in users), name


def test_world_coordinates_map_like_pixels():
    """MediaPipe's (33, 3) world landmarks go through the same table."""
    world = np.random.default_rng(18).normal(size=(33, 3))
    mapped, _ = map_keypoints(MEDIAPIPE33_TO_H36M17, world)
    assert mapped.shape == (17, 3)
    np.testing.assert_allclose(mapped, MEDIAPIPE33_TO_H36M17.weight_matrix() @ world)


def test_wrong_number_of_source_joints_is_refused():
    with pytest.raises(ValueError, match="coco17"):
        map_keypoints(COCO17_TO_H36M17, np.zeros((16, 2)))


@pytest.mark.parametrize("fmt", sorted(SIZES))
def test_to_h36m17_uses_the_persons_format(fmt):
    n = SIZES[fmt]
    keypoints = np.random.default_rng(19).uniform(0, 500, size=(n, 2))
    scores = np.random.default_rng(20).uniform(0.1, 1, size=n)
    person = DetectedPerson(keypoints=keypoints, scores=scores, bbox=np.zeros(4), keypoint_format=fmt)
    mapped, mapped_scores = to_h36m17(person)
    expected, expected_scores = map_keypoints(MAPPINGS[fmt], keypoints, scores)
    assert mapped.shape == (17, 2) and mapped_scores.shape == (17,)
    np.testing.assert_array_equal(mapped, expected)
    np.testing.assert_array_equal(mapped_scores, expected_scores)


# =========================================== every table on real annotations (SVMAC_DATA)


@pytest.fixture(scope="module")
def annotated(data_dir) -> dict[str, list[DetectedPerson]]:
    """Real annotated people of each format: COCO and MPII fixtures, the 40 LSP people, the H36M fixture frames."""
    from detector_adapters.ground_truth import read_coco_json, read_h36m17, read_lsp, read_mpii_json

    files = {
        "coco17": (read_coco_json, data_dir / "fixtures" / "coco" / "test_coco.json"),
        "mpii16": (read_mpii_json, data_dir / "fixtures" / "mpii" / "test_mpii.json"),
        "lsp14": (read_lsp, data_dir / "lsp" / "lsp_joints.npz"),
        "h36m17": (read_h36m17, data_dir / "fixtures" / "h36m" / "test_h36m_body3d.npz"),
    }
    people = {}
    for fmt, (reader, path) in files.items():
        if not path.is_file():
            pytest.skip(f"{path} missing")
        people[fmt] = [person for persons in reader(path).values() for person in persons]
        assert people[fmt], fmt
    return people


ANNOTATED_FORMATS = ["coco17", "mpii16", "lsp14", "h36m17"]


@pytest.mark.parametrize("fmt", ANNOTATED_FORMATS)
def test_real_mapped_sides_stay_with_their_source_side(annotated, fmt):
    """Each mapped left joint lies nearer the annotation's own left joint than its right twin (and vice versa)."""
    mapping = MAPPINGS[fmt]
    checked = 0
    for person in annotated[fmt]:
        mapped, _ = to_h36m17(person)
        for j in LEFT_JOINTS + RIGHT_JOINTS:
            source = mapping.rules[j][0][0]
            same = person.keypoints[mapping.source_names.index(source)]
            other = person.keypoints[mapping.source_names.index(mirror(source))]
            if np.isnan(same).any() or np.isnan(other).any() or np.allclose(same, other):
                continue
            assert np.linalg.norm(mapped[j] - same) < np.linalg.norm(mapped[j] - other), (fmt, JOINT_NAMES[j])
            checked += 1
    assert checked >= 10 * len(annotated[fmt])


@pytest.mark.parametrize("fmt", ANNOTATED_FORMATS)
def test_real_derived_joints_lie_between_their_sources(annotated, fmt):
    """A derived joint with positive weights lies inside the box of the annotated joints it is made of."""
    mapping = MAPPINGS[fmt]
    checked = 0
    for person in annotated[fmt]:
        mapped, _ = to_h36m17(person)
        for j, rule in enumerate(mapping.rules):
            sources = person.keypoints[[mapping.source_names.index(name) for name, _ in rule]]
            if len(rule) < 2 or np.isnan(sources).any():
                continue
            assert all(weight > 0 for _, weight in rule), (fmt, JOINT_NAMES[j])
            assert np.all(sources.min(0) - 1e-9 <= mapped[j]) and np.all(mapped[j] <= sources.max(0) + 1e-9)
            checked += 1
    assert checked > 0 or fmt == "h36m17"


def bone(poses: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(poses[:, H36M[a]] - poses[:, H36M[b]], axis=-1)


# Median 2D length ratios over each data set. In 2D a limb can foreshorten to nothing, so single
# people go far out of range; the medians of real people stay near 1 (Human3.6M's own joints:
# thigh/shin 0.98, upper arm/forearm 1.16, left/right 1.0). A swapped or wrong source joint breaks them.
RATIO_RANGES = {
    "thigh / shin": (("LHip", "LKnee", "RHip", "RKnee"), ("LKnee", "LFoot", "RKnee", "RFoot"), (0.6, 1.6)),
    "upper arm / forearm": (("LShoulder", "LElbow", "RShoulder", "RElbow"),
                            ("LElbow", "LWrist", "RElbow", "RWrist"), (0.7, 1.7)),
    "left / right thigh": (("LHip", "LKnee"), ("RHip", "RKnee"), (0.6, 1.7)),
    "left / right upper arm": (("LShoulder", "LElbow"), ("RShoulder", "RElbow"), (0.6, 1.7)),
    "left / right shin": (("LKnee", "LFoot"), ("RKnee", "RFoot"), (0.6, 1.7)),
    # Derived joints against the trunk (Thorax-Hip); Human3.6M: Head 0.35, Neck/Nose 0.19, Spine 0.47.
    "Thorax-Head / Thorax-Hip": (("Thorax", "Head"), ("Thorax", "Hip"), (0.15, 0.6)),
    "Thorax-Neck/Nose / Thorax-Hip": (("Thorax", "Neck/Nose"), ("Thorax", "Hip"), (0.05, 0.35)),
    "Spine-Hip / Thorax-Hip": (("Spine", "Hip"), ("Thorax", "Hip"), (0.35, 0.65)),
}  # fmt: skip


@pytest.mark.parametrize("fmt", ANNOTATED_FORMATS)
@pytest.mark.parametrize("ratio", sorted(RATIO_RANGES))
def test_real_mapped_bone_length_ratios_are_human(annotated, fmt, ratio):
    numerator, denominator, (low, high) = RATIO_RANGES[ratio]
    poses = np.array([to_h36m17(person)[0] for person in annotated[fmt]])
    top = sum(bone(poses, numerator[k], numerator[k + 1]) for k in range(0, len(numerator), 2))
    bottom = sum(bone(poses, denominator[k], denominator[k + 1]) for k in range(0, len(denominator), 2))
    value = np.nanmedian(top / bottom)
    assert low <= value <= high, (fmt, ratio, value)


def test_real_coco_unannotated_eyes_leave_only_their_joints_absent(annotated):
    """COCO people whose eyes are not annotated: Neck/Nose and Head are absent (NaN, score 0), Thorax
    (shoulders and nose) and every limb joint annotated in the source are not."""
    eyes = [COCO17_NAMES.index("LEye"), COCO17_NAMES.index("REye")]
    nose = COCO17_NAMES.index("Nose")
    seen = 0
    for person in annotated["coco17"]:
        mapped, scores = to_h36m17(person)
        if not np.isnan(person.keypoints[eyes]).any():
            assert np.isfinite(mapped[[H36M["Neck/Nose"], H36M["Head"]]]).all()
            continue
        seen += 1
        assert np.isnan(mapped[[H36M["Neck/Nose"], H36M["Head"]]]).all()
        assert scores[H36M["Neck/Nose"]] == scores[H36M["Head"]] == 0.0
        if np.isfinite(person.keypoints[[nose, 5, 6]]).all():
            assert np.isfinite(mapped[H36M["Thorax"]]).all() and scores[H36M["Thorax"]] > 0
    assert seen > 0  # the fixture has people with an unannotated eye


def test_real_h36m_annotations_map_to_themselves(data_dir):
    path = data_dir / "fixtures" / "h36m" / "test_h36m_body3d.npz"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    with np.load(path) as data:
        part = data["part"].astype(np.float64)
    mapped, scores = map_keypoints(H36M17_TO_H36M17, part[..., :2], part[..., 2])
    np.testing.assert_array_equal(mapped, part[..., :2])
    np.testing.assert_array_equal(scores, part[..., 2])


def test_mediapipe_on_h36m_frames_lands_near_h36m_own_derived_joints(data_dir):
    """End to end on the 4 Human3.6M fixture photos: MediaPipe, mapped by the shipped table, puts the
    derived joints near Human3.6M's own (measured medians 0.03-0.10 torso sizes; mmpose's Thorax 0.14)."""
    pytest.importorskip("mediapipe")
    from detector_adapters.image_io import load_image
    from detector_adapters.mediapipe_adapter import MediaPipeDetector

    root = data_dir / "fixtures" / "h36m"
    if not (root / "test_h36m_body3d.npz").is_file():
        pytest.skip("Human3.6M fixture missing")
    with np.load(root / "test_h36m_body3d.npz") as data:
        names, part = [str(n) for n in data["imgname"]], data["part"][..., :2].astype(np.float64)
    detector = MediaPipeDetector()
    errors = []
    for name, truth in zip(names, part):
        people = detector.detect(load_image(root / name))
        assert len(people) == 1, name
        mapped, _ = to_h36m17(people[0])
        torso = np.linalg.norm(truth[H36M["LShoulder"]] - truth[H36M["RHip"]])
        errors.append(np.linalg.norm(mapped - truth, axis=-1) / torso)
    detector.close()
    median = np.median(errors, axis=0)
    for name in ("Thorax", "Neck/Nose", "Head", "Spine"):
        assert median[H36M[name]] < 0.15, (name, median[H36M[name]])
    # The fitted Thorax beats the shoulders' midpoint (mmpose's rule) on Human3.6M's own joints.
    assert median[H36M["Thorax"]] < 0.1
