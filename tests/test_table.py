"""CSV table: parsed back with the csv module, every number compared with the arrays it came from."""

import csv

import numpy as np
import pytest

from app.angles import ANGLE_NAMES, WORLD_UP, joint_angles
from app.clip import Clip, PoseTrack
from app.table import CSV_JOINT_NAMES, csv_columns, write_csv
from app.world import WorldFrame, clip_to_world
from lifter.skeleton import JOINT_NAMES


def random_track(rng, track_id: int, frames, detection_score: bool) -> PoseTrack:
    count = len(frames)
    pose = rng.normal(0, 300, (count, 17, 3))
    pose -= pose[:, :1]
    return PoseTrack(
        track_id=track_id,
        frames=np.asarray(frames, np.int64),
        bbox=np.tile([10.0, 20.0, 300.0, 600.0], (count, 1)),
        keypoints_2d=rng.uniform(0, 1000, (count, 17, 2)),
        scores=rng.uniform(0, 1, (count, 17)),
        imputed=np.zeros((count, 17), bool),
        pose_3d=pose / 4000,
        pose_3d_mm=pose,
        camera=np.tile([[0.1, 0, 0], [0, 0.1, 0]], (count, 1, 1)),
        detection_score=rng.uniform(0.5, 1, count) if detection_score else None,
    )


def read(path):
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [dict(zip(header, row)) for row in reader]


def number(text: str) -> float:
    return float("nan") if text == "" else float(text)


def joint_values(row: dict, suffixes) -> np.ndarray:
    return np.array([[number(row[f"{joint}_{s}"]) for s in suffixes] for joint in CSV_JOINT_NAMES])


def test_video_rows_sorted_by_frame_and_track_with_every_number(tmp_path):
    rng = np.random.default_rng(0)
    first = random_track(rng, 0, [0, 1, 2, 5], detection_score=True)
    second = random_track(rng, 4, [1, 2, 3], detection_score=False)
    clip = Clip("walk.mp4", 1920, 1080, 6, 30.0, [first, second])
    path = tmp_path / "walk.csv"
    assert write_csv(path, clip) == 7
    header, rows = read(path)
    assert header == csv_columns(with_world=False)
    assert [(r["frame"], r["track_id"]) for r in rows] == [
        ("0", "0"), ("1", "0"), ("1", "4"), ("2", "0"), ("2", "4"), ("3", "4"), ("5", "0")
    ]  # fmt: skip
    for row in rows:
        track = first if row["track_id"] == "0" else second
        i = list(track.frames).index(int(row["frame"]))
        assert row["source"] == "walk.mp4"
        assert float(row["time_s"]) == pytest.approx(int(row["frame"]) / 30.0, rel=1e-5)
        np.testing.assert_allclose(joint_values(row, "xyz"), track.pose_3d_mm[i], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(joint_values(row, "uv"), track.keypoints_2d[i], rtol=1e-5)
        np.testing.assert_allclose(joint_values(row, ["score"])[:, 0], track.scores[i], rtol=1e-5, atol=1e-6)
        angles = joint_angles(track.pose_3d_mm[i])
        for name in ANGLE_NAMES:
            np.testing.assert_allclose(number(row[name]), angles[name], rtol=1e-5, atol=1e-4, equal_nan=True)
        if track.detection_score is None:
            assert row["detection_score"] == ""
        else:
            assert float(row["detection_score"]) == pytest.approx(track.detection_score[i], rel=1e-5)


def test_joint_columns_are_csv_safe_and_named_after_the_joints():
    assert CSV_JOINT_NAMES[JOINT_NAMES.index("Neck/Nose")] == "NeckNose"
    assert all(name.isalnum() for name in CSV_JOINT_NAMES)
    columns = csv_columns(with_world=True)
    assert len(columns) == len(set(columns)) == 5 + 17 * 3 + 17 * 2 + 17 + len(ANGLE_NAMES) + 17 * 3
    assert {"Hip_x", "LWrist_v", "RFoot_score", "Head_world_y", "left_knee_flexion"} <= set(columns)


def test_photo_batch_one_row_per_photo_and_person(tmp_path):
    rng = np.random.default_rng(1)
    photos = [
        Clip("a.jpg", 640, 480, 1, None, [random_track(rng, 0, [0], True), random_track(rng, 1, [0], True)]),
        Clip("<b>.jpg", 640, 480, 1, None, []),  # no person: no row
        Clip("c,d.jpg", 640, 480, 1, None, [random_track(rng, 0, [0], True)]),
    ]
    path = tmp_path / "batch.csv"
    assert write_csv(path, photos) == 3
    _, rows = read(path)
    assert [(r["source"], r["track_id"], r["frame"], r["time_s"]) for r in rows] == [
        ("a.jpg", "0", "0", ""), ("a.jpg", "1", "0", ""), ("c,d.jpg", "0", "0", "")
    ]  # fmt: skip
    np.testing.assert_allclose(joint_values(rows[2], "xyz"), photos[2].tracks[0].pose_3d_mm[0], rtol=1e-5, atol=1e-3)


def test_world_columns_and_world_trunk_lean(tmp_path):
    rng = np.random.default_rng(2)
    placed, unplaced = random_track(rng, 0, [0, 1], True), random_track(rng, 1, [0, 1], True)
    clip = Clip("two.mp4", 1000, 1000, 2, 25.0, [placed, unplaced])
    worlds = clip_to_world(Clip("two.mp4", 1000, 1000, 2, 25.0, [placed]), WorldFrame(focal_px=1000.0))
    path = tmp_path / "two.csv"
    write_csv(path, clip, worlds)
    header, rows = read(path)
    assert header == csv_columns(with_world=True)
    for row in rows:
        i = int(row["frame"])
        if row["track_id"] == "0":
            np.testing.assert_allclose(joint_values(row, ["world_x", "world_y", "world_z"]),
                                       worlds[0].joints_m[i], rtol=1e-5, atol=1e-6)  # fmt: skip
            lean = joint_angles(worlds[0].joints_m[i], WORLD_UP)["trunk_lean"]
            assert float(row["trunk_lean"]) == pytest.approx(lean, rel=1e-5)
        else:
            assert all(row[f"{joint}_world_x"] == "" for joint in CSV_JOINT_NAMES)


def test_replaces_atomically_and_leaves_no_temporary_file(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    write_csv(path, Clip("x.mp4", 10, 10, 1, 25.0, [random_track(rng, 0, [0], False)]))
    assert path.read_text().startswith("source,frame,time_s")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with pytest.raises(ValueError):
        write_csv(path, [Clip("x.mp4", 10, 10, 1, 25.0, [])], worlds=[None, None])
