"""svmac-demo end to end on real photos: the packaged photo always, the shared photos with SVMAC_DATA."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("mediapipe")
jsonschema = pytest.importorskip("jsonschema")

from app.angles import ANGLE_NAMES, joint_angles  # noqa: E402
from app.draw import frame_layout  # noqa: E402
from app.demo import SUMMARY_NAME, main  # noqa: E402
from app.output import SCHEMA_PATH  # noqa: E402
from lifter.skeleton import LEFT_JOINTS, RIGHT_JOINTS  # noqa: E402

LSHOULDER, RSHOULDER = 11, 14
SCHEMA = json.loads(SCHEMA_PATH.read_text())


def check_result(record: dict) -> None:
    jsonschema.validate(record, SCHEMA)
    people = record["people"] if record["kind"] == "photo" else [p for f in record["frames"] for p in f["people"]]
    for person in people:
        pose_3d = np.array(person["pose_3d"])
        assert np.isfinite(pose_3d).all() and np.isfinite(np.array(person["pose_3d_mm"])).all()
        assert np.isfinite(np.array(person["keypoints_2d"])).all()
        np.testing.assert_allclose(pose_3d[0], 0, atol=1e-4)  # root-relative
        # Joint angles always: app.angles on the person's own pose (a level camera's vertical without --world).
        expected = joint_angles(np.array(person["pose_3d_mm"]))
        got = [np.nan if person["angles_deg"][name] is None else person["angles_deg"][name] for name in ANGLE_NAMES]
        np.testing.assert_allclose(got, [expected[name] for name in ANGLE_NAMES], atol=0.2)


def test_single_image(packaged_photo, tmp_path, capsys):
    figure, result, arrays = tmp_path / "pose.png", tmp_path / "pose.json", tmp_path / "pose.npz"
    assert main([str(packaged_photo), "--out", str(figure), "--json", str(result), "--npz", str(arrays)]) == 0
    assert "1 person" in capsys.readouterr().out
    assert Image.open(figure).size[0] > 300
    record = json.loads(result.read_text())
    check_result(record)
    assert record["status"] == "ok" and record["image"] == {"file": "grace_hopper.jpg", "width": 512, "height": 600}
    [person] = record["people"]
    assert person["id"] == 0 and 0.5 < person["score"] <= 1  # the detector is sure she is a person
    pose_3d, keypoints = np.array(person["pose_3d"]), np.array(person["keypoints_2d"])
    # Facing the camera: the left shoulder is right of the right one, in the photo and in 3D.
    assert keypoints[LSHOULDER, 0] > keypoints[RSHOULDER, 0]
    assert pose_3d[LSHOULDER, 0] > pose_3d[RSHOULDER, 0]
    # Millimetres: shoulder width of an adult.
    mm = np.array(person["pose_3d_mm"])
    assert 200 < np.linalg.norm(mm[LSHOULDER] - mm[RSHOULDER]) < 500
    with np.load(arrays) as saved:
        np.testing.assert_allclose(saved["pose_3d"][0], pose_3d, atol=1e-4)
        assert saved["keypoints_2d"].shape == (1, 17, 2) and saved["image_index"].tolist() == [0]
        assert saved["person_id"].tolist() == [0] and str(saved["format"]) == "svmac-pose-2"
        np.testing.assert_allclose(saved["detection_score"], [person["score"]], atol=1e-4)


def test_flip_average_is_recorded_and_keeps_the_sides(packaged_photo, tmp_path, capsys):
    plain, flipped = tmp_path / "plain.json", tmp_path / "flip.json"
    assert main([str(packaged_photo), "--no-figure", "--json", str(plain), "--quiet"]) == 0
    assert main([str(packaged_photo), "--no-figure", "--json", str(flipped), "--flip-average", "--quiet"]) == 0
    records = [json.loads(path.read_text()) for path in (plain, flipped)]
    for record in records:
        check_result(record)
    assert [r["lifter"]["flip_average"] for r in records] == [False, True]
    pose_plain, pose_flipped = (np.array(r["people"][0]["pose_3d"]) for r in records)
    assert pose_flipped[LSHOULDER, 0] > pose_flipped[RSHOULDER, 0]  # un-mirrored: still facing us
    assert 0 < np.abs(pose_flipped - pose_plain).max() < 0.5 * np.abs(pose_plain).max()


def test_existing_outputs_are_kept_unless_asked(packaged_photo, tmp_path, capsys):
    figure = tmp_path / "pose.png"
    figure.write_bytes(b"precious")
    assert main([str(packaged_photo), "--out", str(figure)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err
    assert figure.read_bytes() == b"precious"
    assert main([str(packaged_photo), "--out", str(figure), "--overwrite", "--quiet"]) == 0
    assert figure.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--out", "x.txt"], "use a .png"),
        (["--weights", "missing.safetensors", "--no-figure"], "not found"),
        (["--detector", "gt", "--no-figure"], "--annotations"),
        (
            ["--device", "cuda", "--no-figure"] if not __import__("torch").cuda.is_available() else ["--out", "y.doc"],
            "",
        ),
    ],
)
def test_bad_options_are_one_line_errors(packaged_photo, tmp_path, monkeypatch, capsys, argv_tail, message):
    monkeypatch.chdir(tmp_path)
    assert main([str(packaged_photo), *argv_tail]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert list(tmp_path.iterdir()) == []


def test_example_clip_needs_no_input(tmp_path, monkeypatch, capsys):
    """--example runs on the bundled clip (several people, full bodies); --out draws its busiest frame."""
    monkeypatch.chdir(tmp_path)
    assert main(["--example", "--max-frames", "4", "--out", "pose.png", "--json", "example.json", "--quiet"]) == 0
    assert Image.open(tmp_path / "pose.png").size[0] > 300
    record = json.loads((tmp_path / "example.json").read_text())
    check_result(record)
    assert record["kind"] == "clip" and record["video"]["file"] == "pose2sim_cam01.mp4"
    assert len(record["frames"]) == 4 and min(len(f["people"]) for f in record["frames"]) >= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example.json", "pose.png"]
    assert main([]) == 2
    assert "--example" in capsys.readouterr().err


def test_bad_image_fails_with_status_one(tmp_path, capsys):
    bad = tmp_path / "broken.jpg"
    bad.write_text("not a photo")
    assert main([str(bad), "--out", str(tmp_path / "pose.png")]) == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "Traceback" not in err
    assert not (tmp_path / "pose.png").exists()


def make_batch_folder(root, packaged_photo):
    shutil.copy(packaged_photo, root / "hopper.jpg")
    (root / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(packaged_photo, root / "sub" / "deeper" / "HOPPER.JPG")  # upper-case extension
    Image.open(packaged_photo).convert("RGBA").save(root / "sub" / "alpha.png")
    Image.open(packaged_photo).convert("L").save(root / "sub" / "gray.png")  # MediaPipe misses her in gray
    Image.new("RGB", (320, 240), (90, 120, 200)).save(root / "sub" / "empty_wall.png")  # nobody there
    (root / "sub" / "corrupt.jpg").write_bytes(packaged_photo.read_bytes()[:3000])
    (root / "notes.txt").write_text("ignored: not an image")


def test_batch_folder(packaged_photo, tmp_path, capsys):
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    make_batch_folder(photos, packaged_photo)
    arrays = tmp_path / "all.npz"
    assert main([str(photos), "--out-dir", str(out), "--npz", str(arrays)]) == 1  # one file is corrupt
    captured = capsys.readouterr()
    assert "processed 5 image(s)" in captured.out and "0 already done; 1 failed" in captured.out
    assert "sub/corrupt.jpg" in captured.err and "Traceback" not in captured.err

    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary["processed"] == 5 and "sub/empty_wall.png" in summary["no_person"]
    assert set(summary["no_person"]) <= {"sub/empty_wall.png", "sub/gray.png"}
    assert list(summary["failed"]) == ["sub/corrupt.jpg"]
    for name in ("hopper.jpg", "sub/deeper/HOPPER.JPG", "sub/alpha.png", "sub/gray.png", "sub/empty_wall.png"):
        record = json.loads((out / f"{name}.json").read_text())
        check_result(record)
        # A folder's figures are OpenCV drawings (app.draw): the photo beside the 3D panel.
        height = record["image"]["height"]
        layout = frame_layout(height, record["image"]["width"], min(max(height, 480), 1080))
        assert Image.open(out / f"{name}.png").size == (layout.width, layout.height)
    assert json.loads((out / "sub/empty_wall.png.json").read_text())["status"] == "no_person"
    assert not (out / "sub/corrupt.jpg.json").exists() and not (out / "sub/corrupt.jpg.png").exists()
    assert not list(out.rglob(".*.tmp"))
    with np.load(arrays) as saved:
        assert saved["pose_3d"].shape == (5 - len(summary["no_person"]), 17, 3)
        names = saved["image_names"][saved["image_index"]].tolist()
        assert "hopper.jpg" in names and "sub/empty_wall.png" not in names

    # A re-run redoes only what failed; --overwrite redoes everything.
    stamp = (out / "hopper.jpg.json").stat().st_mtime_ns
    assert main([str(photos), "--out-dir", str(out), "--quiet"]) == 1
    assert json.loads((out / SUMMARY_NAME).read_text())["skipped_already_done"] == 5
    assert (out / "hopper.jpg.json").stat().st_mtime_ns == stamp
    (photos / "sub" / "corrupt.jpg").unlink()
    assert main([str(photos), "--out-dir", str(out), "--quiet", "--overwrite", "--no-figure"]) == 0
    assert json.loads((out / SUMMARY_NAME).read_text())["processed"] == 5


def test_batch_folder_errors(packaged_photo, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no photos here")
    assert main([str(empty), "--out-dir", str(tmp_path / "out")]) == 2
    assert "no images or videos found" in capsys.readouterr().err

    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(packaged_photo, photos / "a.jpg")
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert main([str(photos), "--out-dir", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot write to output folder" in err and err.count("\n") == 1
    assert main([str(photos)]) == 2
    assert "--out-dir" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("folder", "annotations", "count"),
    [
        ("lsp/images", "lsp/lsp_joints.npz", 40),
        ("fixtures/coco", "fixtures/coco/test_coco.json", 4),
        ("fixtures/mpii", "fixtures/mpii/test_mpii.json", 5),
        ("fixtures/h36m", "fixtures/h36m/test_h36m_body3d.npz", 4),
    ],
)
def test_ground_truth_2d_input(data_dir, tmp_path, folder, annotations, count):
    out = tmp_path / "out"
    argv = [str(data_dir / folder), "--out-dir", str(out), "--no-figure", "--quiet", "--detector", "gt"]
    assert main([*argv, "--annotations", str(data_dir / annotations)]) == 0
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary["processed"] == count and not summary["no_person"] and not summary["failed"]
    for result in out.rglob("*.json"):
        if result.name != SUMMARY_NAME:
            record = json.loads(result.read_text())
            check_result(record)
            assert record["detector"]["name"] == "gt"


def test_left_and_right_follow_the_2d_input_on_real_photos(data_dir, tmp_path):
    """On the COCO and MPII fixture photos, the 3D left/right order across the body (x) matches the
    2D one for the shoulders and hips wherever the 2D separates them clearly."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in [*(data_dir / "fixtures" / "coco").glob("*.jpg"), *(data_dir / "fixtures" / "mpii").glob("*.jpg")]:
        shutil.copy(path, photos / path.name)
    out = tmp_path / "out"
    assert main([str(photos), "--out-dir", str(out), "--no-figure", "--quiet"]) == 0
    checked = 0
    for result in out.glob("*.json"):
        if result.name == SUMMARY_NAME:
            continue
        record = json.loads(result.read_text())
        check_result(record)
        for person in record["people"]:
            keypoints, pose = np.array(person["keypoints_2d"]), np.array(person["pose_3d"])
            width = np.ptp(keypoints[:, 0])
            for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
                gap_2d = keypoints[left, 0] - keypoints[right, 0]
                if left in (4, 11) and abs(gap_2d) > 0.15 * width:  # hips and shoulders
                    assert np.sign(pose[left, 0] - pose[right, 0]) == np.sign(gap_2d), result.name
                    checked += 1
    assert checked >= 8


def test_photo_with_several_people_numbers_them_by_size(tmp_path):
    """A frame of the bundled clip as a photo: both people in front, id 0 the larger, each with a score;
    --max-people 1 keeps only the larger."""
    import cv2

    from app.demo import EXAMPLE_CLIP

    capture = cv2.VideoCapture(str(EXAMPLE_CLIP))
    ok, frame = capture.read()
    assert ok
    photo = tmp_path / "two_people.jpg"
    cv2.imwrite(str(photo), frame)
    for limit, expected in (("10", 2), ("1", 1)):
        result = tmp_path / f"max{limit}.json"
        assert main([str(photo), "--no-figure", "--json", str(result), "--max-people", limit, "--quiet"]) == 0
        record = json.loads(result.read_text())
        check_result(record)
        people = record["people"]
        assert [p["id"] for p in people] == list(range(expected))
        areas = [(p["bbox"][2] - p["bbox"][0]) * (p["bbox"][3] - p["bbox"][1]) for p in people]
        assert areas == sorted(areas, reverse=True) and all(0.5 < p["score"] <= 1 for p in people)


@pytest.mark.parametrize("flag, thorough", [([], False), (["--thorough"], True)])
def test_thorough_makes_the_detector_turn_every_photo(packaged_photo, flag, thorough):
    """--thorough: MediaPipe looks at every photo's quarter turns (tests/test_mediapipe_adapter.py counts them)."""
    from app.demo import build_detector, build_parser

    detector = build_detector(build_parser().parse_args([str(packaged_photo), *flag]))
    try:
        assert detector.thorough is thorough
    finally:
        detector.close()
