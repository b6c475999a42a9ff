"""The Human3.6M loader against the four real fixture frames, and its errors."""

import numpy as np
import pytest

from lifter.data import action_of, data_root, load_h36m
from lifter.errors import SvmacError


def fixture_frames(data_dir):
    fixture = np.load(data_dir / "fixtures/h36m/test_h36m_body3d.npz")
    for i, name in enumerate(fixture["imgname"]):
        # "S5/S5_SittingDown.54138969/S5_SittingDown.54138969_002061.jpg": image 1 is frame 0
        subject, folder, _ = str(name).split("/")
        take, camera = folder.split(".")
        sequence = take[len(subject) + 1 :].replace("_", " ")
        frame = int(str(name).rsplit("_", 1)[1].split(".")[0]) - 1
        yield subject, sequence, camera, frame, fixture["part"][i, :, :2], fixture["S"][i, :, :3] * 1000


def test_loader_reproduces_fixture_frames(data_dir):
    """Projection (distortion included), world->camera transform and frame indexing are right."""
    root = data_root(data_dir)
    checked = 0
    for subject, sequence, camera, frame, pixels, camera_mm in fixture_frames(data_dir):
        poses = load_h36m(root, (subject,), (camera,), actions=(action_of(sequence),))
        match = np.flatnonzero((poses.sequence == sequence) & (poses.frame == frame))
        assert len(match) == 1, (subject, sequence, camera, frame)
        assert np.abs(poses.pose_2d[match[0]] - pixels).max() < 0.01  # px
        assert np.abs(poses.pose_3d[match[0]] - camera_mm).max() < 0.01  # mm
        checked += 1
    assert checked == 4


def test_frame_step_and_cameras(data_dir):
    root = data_root(data_dir)
    poses = load_h36m(root, ("S9",), ("54138969",), frame_step=5, actions=("Walking",))
    assert set(poses.camera) == {"54138969"}
    assert set(poses.action) == {"Walking"}
    assert (poses.frame % 5 == 0).all()


def test_sh_detections_are_mapped_to_h36m(data_dir):
    """SH 2D has the H36M-17 layout and lies near the projected ground truth (not swapped)."""
    root = data_root(data_dir)
    gt = load_h36m(root, ("S11",), ("55011271",), frame_step=100, source="gt", actions=("Walking",))
    sh = load_h36m(root, ("S11",), ("55011271",), frame_step=100, source="sh", actions=("Walking",))
    assert sh.pose_2d.shape == gt.pose_2d.shape
    error = np.linalg.norm(sh.pose_2d - gt.pose_2d, axis=-1)
    assert np.median(error) < 15  # px; a left/right swap gives ~40 px on the limbs


def test_action_of():
    assert action_of("Walking 1") == "Walking"
    assert action_of("SittingDown") == "SittingDown"


def test_missing_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SVMAC_DATA", raising=False)
    with pytest.raises(SvmacError, match="SVMAC_DATA"):
        data_root(None)
    with pytest.raises(SvmacError, match="does not exist"):
        data_root(tmp_path / "nowhere")
    with pytest.raises(SvmacError, match="h36m_3d_17j_mm.npz"):
        data_root(tmp_path)


def test_malformed_data_file(tmp_path):
    (tmp_path / "h36m").mkdir()
    (tmp_path / "h36m/h36m_3d_17j_mm.npz").write_bytes(b"not an npz")
    (tmp_path / "h36m/h36m_cameras.npz").write_bytes(b"not an npz")
    with pytest.raises(SvmacError, match="not a readable npz"):
        load_h36m(data_root(tmp_path), ("S9",))


def test_unknown_subject_and_action(data_dir):
    root = data_root(data_dir)
    with pytest.raises(SvmacError, match="unknown subject S99"):
        load_h36m(root, ("S99",))
    with pytest.raises(SvmacError, match="unknown action Juggling"):
        load_h36m(root, ("S9",), actions=("Juggling",))


def test_sequence_without_detections_is_reported_not_fatal(data_dir):
    """H36M's damaged S11 "Directions" video of camera 54138969 has no SH detections."""
    sh = load_h36m(data_root(data_dir), ("S11",), ("54138969",), 50, source="sh", actions=("Directions",))
    assert sh.missing_detections == ("S11/Directions/54138969",)
    assert set(sh.sequence) == {"Directions 1"}
