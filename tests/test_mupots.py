"""MuPoTS-3D loading and cross-dataset scoring on the real file: valid rows, scored joints,
the flat-pose floor the data's own README measured, hand cases of the metrics."""

from pathlib import Path

import numpy as np
import pytest

from lifter.errors import SvmacError
from lifter.mupots import flat_pose, load_mupots, score, sequence_order, with_bone_lengths
from lifter.skeleton import BONES, JOINT_NAMES


@pytest.fixture(scope="module")
def mupots(data_dir):
    if not (data_dir / "mupots" / "mupots_h36m17.npz").is_file():
        pytest.skip("no mupots/ in SVMAC_DATA")
    return load_mupots(data_dir)


def test_valid_rows_and_scored_joints(mupots):
    assert len(mupots) == 20_760  # of 20,899 rows, the valid ones (mupots/README.md section 9)
    assert sequence_order(mupots.sequence) == [f"TS{i}" for i in range(1, 21)]
    assert [JOINT_NAMES[j] for j in np.flatnonzero(~mupots.scored)] == ["Neck/Nose", "Head"]
    assert set(mupots.sequence[mupots.indoor]) == {"TS1", "TS2", "TS3", "TS4", "TS5"}
    np.testing.assert_allclose(mupots.pose_3d[:, 0], 0.0, atol=1e-3)  # root-relative


def test_flat_pose_reproduces_the_per_instance_baseline_of_the_file(data_dir, mupots):
    """The file stores its own flat-pose P-MPJPE per instance, computed by its converter:
    ours, per sequence, must match it, and overall be the README's 108.7 mm."""
    stored = np.load(data_dir / "mupots" / "mupots_h36m17.npz")
    expected = stored["flat_pmpjpe_scored_mm"][stored["valid"]]
    flat = flat_pose(mupots)
    for sequence in ("TS1", "TS10", "TS20"):
        keep = mupots.sequence == sequence
        assert score(flat[keep], mupots.select(keep))["p_mpjpe"] == pytest.approx(expected[keep].mean(), abs=0.01)
    assert score(flat, mupots)["p_mpjpe"] == pytest.approx(108.7, abs=0.05)


def test_truth_scores_perfectly_and_its_mirror_only_with_reflection(mupots):
    keep = mupots.sequence == "TS3"
    part = mupots.select(keep)
    perfect = score(part.pose_3d * 0.01, part)  # the scale of a prediction does not matter
    assert perfect["p_mpjpe"] < 1e-6 and perfect["mpjpe_scaled"] < 1e-6
    assert perfect["pck150"] == 100.0 and perfect["auc"] == pytest.approx(30 / 31 * 100)
    mirrored = score(part.pose_3d * np.array([-1.0, 1.0, 1.0]), part)
    assert mirrored["p_mpjpe_reflection"] < 1e-6 and mirrored["p_mpjpe"] > 20.0


def test_with_bone_lengths_keeps_directions_and_sets_lengths(mupots):
    poses = mupots.pose_3d[:50]
    lengths = np.arange(1.0, 17.0) * 10
    rebuilt = with_bone_lengths(poses, lengths)
    for (parent, child), length in zip(BONES, lengths):
        bone, original = rebuilt[:, child] - rebuilt[:, parent], poses[:, child] - poses[:, parent]
        np.testing.assert_allclose(np.linalg.norm(bone, axis=-1), length)
        cosine = (bone * original).sum(-1) / (length * np.linalg.norm(original, axis=-1))
        np.testing.assert_allclose(cosine, 1.0)


def test_shipped_gt_weights_score_as_the_issue_measured(mupots):
    """Issue 12's baseline: svmac_h36m_gt 69.5 mm P-MPJPE on the 15 scored joints."""
    from lifter.checkpoint import load_generator
    from lifter.inference import lift_poses

    weights = Path(__file__).parents[1] / "weights" / "svmac_h36m_gt.safetensors"
    pred, _ = lift_poses(load_generator(weights), mupots.pose_2d)
    assert score(pred, mupots)["p_mpjpe"] == pytest.approx(69.5, abs=0.1)


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(SvmacError, match="not found"):
        load_mupots(tmp_path)
