"""Ground-truth adapter: COCO, MPII, LSP and H36M-17 annotations read as detections, and the "gt" detector."""

import json
from pathlib import Path

import numpy as np
import pytest

from detector_adapters.ground_truth import (
    COCO_KEYPOINT_NAMES,
    OCCLUDED_SCORE,
    GroundTruthDetector,
    read_annotations,
    read_coco_json,
    read_h36m17,
    read_lsp,
    read_mpii_json,
)
from detector_adapters.keypoint_mapping import COCO17_NAMES, to_h36m17
from lifter.errors import SvmacError


def fixture_file(data_dir: Path, *parts: str) -> Path:
    path = data_dir.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return path


def test_coco_keypoint_names_match_the_table_order():
    """COCO's spelling, in COCO's order, is the same list as the table's names."""
    spelled = [("L" if n.startswith("left") else "R" if n.startswith("right") else "") +
               n.split("_")[-1].capitalize() for n in COCO_KEYPOINT_NAMES]  # fmt: skip
    assert tuple(spelled) == COCO17_NAMES


# ---------------------------------------------------------------------- real annotations


def test_read_coco_fixture(data_dir):
    path = fixture_file(data_dir, "fixtures", "coco", "test_coco.json")
    raw = json.loads(path.read_text())
    people = read_coco_json(path)
    assert set(people) == {image["file_name"] for image in raw["images"]}
    ids = {image["id"]: image["file_name"] for image in raw["images"]}
    for image_id, name in ids.items():
        annotations = [a for a in raw["annotations"] if a["image_id"] == image_id and not a.get("iscrowd")]
        with_keypoints = [a for a in annotations if any(a["keypoints"][2::3])]
        assert len(people[name]) == len(with_keypoints), name
        for person, annotation in zip(people[name], with_keypoints):
            triples = np.array(annotation["keypoints"], dtype=np.float64).reshape(17, 3)
            assert person.keypoint_format == "coco17"
            annotated = triples[:, 2] > 0
            np.testing.assert_array_equal(person.keypoints[annotated], triples[annotated, :2])
            assert np.isnan(person.keypoints[~annotated]).all()
            expected = np.select([triples[:, 2] == 2, triples[:, 2] == 1], [1.0, OCCLUDED_SCORE], 0.0)
            np.testing.assert_array_equal(person.scores, expected)
            x, y, w, h = annotation["bbox"]
            np.testing.assert_allclose(person.bbox, [x, y, x + w, y + h])
    # The fixture has people with keypoints annotated as occluded (v=1), and unannotated (v=0) ones.
    all_scores = np.concatenate([p.scores for persons in people.values() for p in persons])
    assert (all_scores == OCCLUDED_SCORE).any() and (all_scores == 0).any()


def test_read_mpii_fixture(data_dir):
    path = fixture_file(data_dir, "fixtures", "mpii", "test_mpii.json")
    raw = json.loads(path.read_text())
    people = read_mpii_json(path)
    assert set(people) == {entry["image"] for entry in raw}
    for entry in raw:
        (person,) = people[entry["image"]]
        vis = np.array(entry["joints_vis"]) > 0
        assert person.keypoint_format == "mpii16"
        np.testing.assert_array_equal(person.keypoints[vis], np.array(entry["joints"])[vis])
        assert np.isnan(person.keypoints[~vis]).all()  # MPII stores -1, -1 for them
        np.testing.assert_array_equal(person.scores, vis.astype(float))
        # The box holds every annotated joint, and touches the extreme ones.
        joints = person.keypoints[vis]
        np.testing.assert_allclose(person.bbox, [*joints.min(0), *joints.max(0)])
    assert any(not all(entry["joints_vis"]) for entry in raw)


def test_read_lsp_joints(data_dir):
    path = fixture_file(data_dir, "lsp", "lsp_joints.npz")
    with np.load(path) as data:
        names, joints = [str(n) for n in data["names"]], data["joints"].astype(np.float64)
    people = read_lsp(path)
    assert list(people) == names
    for name, expected in zip(names, joints):
        (person,) = people[name]
        assert person.keypoint_format == "lsp14"
        np.testing.assert_array_equal(person.keypoints, expected[:, :2])
        np.testing.assert_array_equal(person.scores, np.where(expected[:, 2] > 0, 1.0, OCCLUDED_SCORE))
        assert (person.bbox[:2] <= expected[:, :2].min(0)).all() and (person.bbox[2:] >= expected[:, :2].max(0)).all()


def test_read_h36m_fixture(data_dir):
    path = fixture_file(data_dir, "fixtures", "h36m", "test_h36m_body3d.npz")
    with np.load(path) as data:
        names, part = [Path(str(n)).name for n in data["imgname"]], data["part"].astype(np.float64)
    people = read_h36m17(path)
    assert list(people) == names  # keyed by file name, without the subject/sequence folders
    for name, expected in zip(names, part):
        (person,) = people[name]
        assert person.keypoint_format == "h36m17"
        np.testing.assert_array_equal(person.keypoints, expected[:, :2])
        np.testing.assert_array_equal(person.scores, expected[:, 2])
        mapped, scores = to_h36m17(person)
        np.testing.assert_array_equal(mapped, expected[:, :2])


def test_read_h36m_arrays():
    poses = np.random.default_rng(0).uniform(0, 500, size=(3, 17, 2))
    people = read_h36m17(poses, names=["a.jpg", "b.jpg", "c.jpg"])
    assert list(people) == ["a.jpg", "b.jpg", "c.jpg"]
    np.testing.assert_array_equal(people["b.jpg"][0].keypoints, poses[1])
    assert (people["b.jpg"][0].scores == 1).all()
    single = read_h36m17(poses[0])
    assert list(single) == ["0"]
    with_visibility = np.concatenate([poses, np.ones((3, 17, 1))], -1)
    with_visibility[2, 10, 2] = 0  # Head not annotated
    person = read_h36m17(with_visibility)["2"][0]
    assert np.isnan(person.keypoints[10]).all() and person.scores[10] == 0
    assert np.isfinite(np.delete(person.keypoints, 10, 0)).all()


@pytest.mark.parametrize(
    "parts, fmt",
    [
        (("fixtures", "coco", "test_coco.json"), "coco17"),
        (("fixtures", "mpii", "test_mpii.json"), "mpii16"),
        (("lsp", "lsp_joints.npz"), "lsp14"),
        (("fixtures", "h36m", "test_h36m_body3d.npz"), "h36m17"),
    ],
)
def test_read_annotations_recognises_each_kind(data_dir, parts, fmt):
    people, detected = read_annotations(fixture_file(data_dir, *parts))
    assert detected == fmt
    assert all(p.keypoint_format == fmt for persons in people.values() for p in persons)


# ---------------------------------------------------------------------- the "gt" detector


def test_ground_truth_detector_finds_people_by_file_name(data_dir, tmp_path):
    path = fixture_file(data_dir, "fixtures", "coco", "test_coco.json")
    detector = GroundTruthDetector(path)
    assert detector.name == "gt" and detector.keypoint_format == "coco17"
    expected = read_coco_json(path)
    image = np.zeros((425, 640, 3), dtype=np.uint8)  # the size of 000000000785.jpg
    # Any folder: the photo is found by its file name.
    people = detector.detect_path(tmp_path / "elsewhere" / "000000000785.jpg", image)
    assert len(people) == len(expected["000000000785.jpg"]) == 1
    np.testing.assert_array_equal(people[0].keypoints, expected["000000000785.jpg"][0].keypoints)
    assert len(detector.detect_for("000000197388.jpg")) == len(expected["000000197388.jpg"])


def test_ground_truth_detector_works_with_the_app_pipeline(data_dir):
    """The app calls detect_path when a detector has one (app/pipeline.py)."""
    pipeline = pytest.importorskip("app.pipeline")
    path = fixture_file(data_dir, "fixtures", "mpii", "test_mpii.json")
    detector = GroundTruthDetector(path)
    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    people, seconds = pipeline.detect_image(detector, Path("005808361.jpg"), image)
    assert len(people) == 1 and people[0].keypoint_format == "mpii16" and seconds >= 0


def test_ground_truth_detector_refuses_unknown_photos_and_mismatched_images(data_dir):
    detector = GroundTruthDetector(fixture_file(data_dir, "lsp", "lsp_joints.npz"))
    with pytest.raises(SvmacError, match="not in"):
        detector.detect_for("holiday.jpg")
    # A photo far smaller than the one annotated (resized, or another photo of the same name).
    with pytest.raises(SvmacError, match="outside"):
        detector.detect_path("im00439.jpg", np.zeros((10, 10, 3), dtype=np.uint8))
    with pytest.raises(SvmacError, match="file name"):
        detector.detect(np.zeros((10, 10, 3), dtype=np.uint8))


# ---------------------------------------------------------------------- malformed files


def one_line_error(call) -> str:
    with pytest.raises(SvmacError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and message
    return message


def coco_file(tmp_path: Path, **changes) -> Path:
    """A minimal made-up COCO keypoint file (one image, one person), with fields replaced by changes."""
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "keypoints": [10, 20, 2] * 17,
                         "bbox": [0, 0, 50, 80]}],
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_KEYPOINT_NAMES)}],
    }  # fmt: skip
    data.update(changes)
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(data))
    return path


def test_minimal_coco_file_reads(tmp_path):
    people = read_coco_json(coco_file(tmp_path))
    assert list(people) == ["a.jpg"] and len(people["a.jpg"]) == 1
    np.testing.assert_array_equal(people["a.jpg"][0].bbox, [0, 0, 50, 80])


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"images": "x"}, "not a COCO keypoint file"),
        ({"annotations": [{"image_id": 1}]}, "needs 'image_id' and 'keypoints'"),
        ({"annotations": [{"image_id": 1, "keypoints": [1, 2, 2] * 16}]}, "expected shape 51"),
        ({"annotations": [{"image_id": 1, "keypoints": [1, 2, 3] * 17}]}, "visibility must be 0, 1 or 2"),
        ({"annotations": [{"image_id": 9, "keypoints": [1, 2, 2] * 17}]}, "image_id 9 is not in 'images'"),
        ({"annotations": [{"image_id": 1, "keypoints": ["a", 2, 2] * 17}]}, "not numbers"),
        ({"categories": [{"id": 1, "name": "person", "keypoints": ["head"] * 17}]}, "not COCO-17's"),
        ({"images": [{"id": 1}]}, "'id' and a 'file_name'"),
    ],
)
def test_malformed_coco_files(tmp_path, changes, message):
    assert message in one_line_error(lambda: read_coco_json(coco_file(tmp_path, **changes)))


def test_coco_crowds_and_empty_people_are_left_out(tmp_path):
    annotations = [
        {"image_id": 1, "keypoints": [0, 0, 0] * 17},  # nothing annotated
        {"image_id": 1, "keypoints": [5, 5, 2] * 17, "iscrowd": 1},
        {"image_id": 1, "keypoints": [5, 5, 2] * 17, "category_id": 2},  # not a person
    ]
    categories = [{"id": 1, "name": "person", "keypoints": list(COCO_KEYPOINT_NAMES)}, {"id": 2, "name": "dog"}]
    people = read_coco_json(coco_file(tmp_path, annotations=annotations, categories=categories))
    assert people == {"a.jpg": []}


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not a JSON file"),
        ('{"a": 1}', "not an MPII annotation list"),
        ('[{"image": "a.jpg"}]', "needs 'image', 'joints' and 'joints_vis'"),
        ('[{"image": "a.jpg", "joints": [[1, 2]], "joints_vis": [1]}]', "expected shape 16x2, got 1x2"),
    ],
)
def test_malformed_mpii_files(tmp_path, content, message):
    path = tmp_path / "mpii.json"
    path.write_text(content)
    assert message in one_line_error(lambda: read_mpii_json(path))


def test_malformed_npz_files(tmp_path):
    np.savez(tmp_path / "no_keys.npz", something=np.zeros(3))
    assert "needs 'names' and 'joints'" in one_line_error(lambda: read_lsp(tmp_path / "no_keys.npz"))
    assert "needs 'imgname' and 'part'" in one_line_error(lambda: read_h36m17(tmp_path / "no_keys.npz"))
    np.savez(tmp_path / "bad_shape.npz", names=np.array(["a.jpg"]), joints=np.zeros((1, 13, 3)))
    assert "expected shape Nx14x3" in one_line_error(lambda: read_lsp(tmp_path / "bad_shape.npz"))
    np.savez(tmp_path / "mismatch.npz", names=np.array(["a.jpg", "b.jpg"]), joints=np.ones((1, 14, 3)))
    assert "2 names for 1" in one_line_error(lambda: read_lsp(tmp_path / "mismatch.npz"))
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file")
    assert "not a readable .npz" in one_line_error(lambda: read_lsp(tmp_path / "garbage.npz"))
    assert "expected shape Nx17xN" in one_line_error(lambda: read_h36m17(np.zeros((2, 16, 2))))
    assert "x, y[, visibility]" in one_line_error(lambda: read_h36m17(np.zeros((2, 17, 4))))


def test_lsp_negative_coordinates_mean_not_annotated(tmp_path):
    joints = np.random.default_rng(1).uniform(10, 200, size=(1, 14, 3)).astype(np.float32)
    joints[..., 2] = 1
    joints[0, 13, :2] = -1  # head top not annotated
    joints[0, 5, 2] = 0  # left ankle annotated but occluded
    np.savez(tmp_path / "lsp.npz", names=np.array(["x.jpg"]), joints=joints)
    (person,) = read_lsp(tmp_path / "lsp.npz")["x.jpg"]
    assert np.isnan(person.keypoints[13]).all() and person.scores[13] == 0
    assert person.scores[5] == OCCLUDED_SCORE and np.isfinite(person.keypoints[5]).all()
    mapped, scores = to_h36m17(person)
    assert np.isnan(mapped[10]).all() and scores[10] == 0  # Head needs the head top
    assert np.isfinite(mapped[8]).all() and scores[8] == 1  # Thorax = Neck does not


def test_read_annotations_refuses_other_files(tmp_path):
    assert "no such annotation file" in one_line_error(lambda: read_annotations(tmp_path / "missing.json"))
    (tmp_path / "a.txt").write_text("x")
    assert "annotation files are" in one_line_error(lambda: read_annotations(tmp_path / "a.txt"))
    (tmp_path / "a.json").write_text('"just a string"')
    assert "neither COCO keypoints" in one_line_error(lambda: read_annotations(tmp_path / "a.json"))
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    assert "neither LSP" in one_line_error(lambda: read_annotations(tmp_path / "other.npz"))
    assert "no such annotation file" in one_line_error(lambda: GroundTruthDetector(tmp_path / "nope.npz"))
