"""MPII-16 -> Human3.6M-17 keypoint table: weights, sides, derived joints, scores, real annotations."""

import json

import numpy as np
import pytest

from detector_adapters.keypoint_mapping import MPII16_NAMES, MPII16_TO_H36M17, map_keypoints
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
