"""MPJPE, Procrustes-aligned P-MPJPE, PCK and AUC on hand cases."""

import numpy as np
import pytest

from lifter.metrics import AUC_THRESHOLDS_MM, auc, joint_errors, mpjpe, p_mpjpe, pck, procrustes_align


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A proper rotation (det +1) from the QR decomposition of a Gaussian matrix."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_poses(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=200.0, size=(n, 17, 3))


def test_procrustes_recovers_similarity_transform():
    """target = 2.5 pred R + t with det R = +1: alignment is exact, P-MPJPE ~ 0."""
    rng = np.random.default_rng(1)
    pred = random_poses(1, seed=2)
    rotation = random_rotation(rng)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    target = 2.5 * pred @ rotation + np.array([100.0, -50.0, 4000.0])
    np.testing.assert_allclose(procrustes_align(pred, target), target, atol=1e-9, rtol=0)
    assert p_mpjpe(pred, target)[0] < 1e-9


def test_procrustes_is_per_pose():
    """Each pose in the batch gets its own scale, rotation and translation."""
    rng = np.random.default_rng(3)
    pred = random_poses(3, seed=4)
    target = np.stack([s * p @ random_rotation(rng) + rng.normal(size=3) * 500 for s, p in zip((0.5, 1.0, 7.0), pred)])
    errors = p_mpjpe(pred, target)
    assert errors.shape == (3,)
    assert np.all(errors < 1e-9)


def test_procrustes_does_not_use_reflections():
    """A mirrored (x -> -x) non-planar pose cannot be reached by a rotation: P-MPJPE stays > 0."""
    pred = random_poses(1, seed=5)
    mirrored = pred * np.array([-1.0, 1.0, 1.0])
    assert p_mpjpe(pred, mirrored)[0] > 1.0  # poses of ~200 mm size: mirror error is tens of mm
    # the implied linear map from centred pred to the aligned pose has det > 0
    aligned = procrustes_align(pred, mirrored)
    p = pred[0] - pred[0].mean(0)
    a = aligned[0] - aligned[0].mean(0)
    linear, *_ = np.linalg.lstsq(p, a, rcond=None)
    assert np.linalg.det(linear) > 0


def test_procrustes_never_worse_than_identity():
    """Alignment minimises the squared error: it is never above that of leaving the pose as it is."""
    pred = random_poses(4, seed=6)
    target = pred + np.random.default_rng(7).normal(scale=30.0, size=pred.shape)
    aligned_sq = ((procrustes_align(pred, target) - target) ** 2).sum((1, 2))
    identity_sq = ((pred - target) ** 2).sum((1, 2))
    assert np.all(aligned_sq <= identity_sq + 1e-9)


def test_mpjpe_hand_case():
    """Every joint off by (3, 4, 0) -> 5; one joint off by 17 mm and 16 exact -> 17/17 = 1."""
    target = random_poses(2, seed=8)
    pred = target.copy()
    pred[0] += np.array([3.0, 4.0, 0.0])
    pred[1, 5] += np.array([0.0, 0.0, -17.0])
    np.testing.assert_allclose(mpjpe(pred, target), [5.0, 1.0], rtol=1e-12)
    errors = joint_errors(pred, target)
    assert errors.shape == (2, 17)
    assert errors[1, 5] == pytest.approx(17.0)


def test_pck_hand_cases():
    assert pck(np.zeros((3, 17))) == 100.0
    assert pck(np.full((3, 17), 200.0)) == 0.0
    # 10 of 20 joints below 150 mm -> 50 %
    errors = np.concatenate([np.full(10, 149.0), np.full(10, 151.0)])[None]
    assert pck(errors) == pytest.approx(50.0)
    assert pck(errors, threshold=160.0) == 100.0


def test_auc_thresholds_are_0_to_150_in_31_steps():
    np.testing.assert_allclose(AUC_THRESHOLDS_MM, np.arange(0.0, 151.0, 5.0))


def test_auc_hand_cases():
    """Constant 75 mm errors count only at thresholds strictly above 75 (80..150: 15 of 31)."""
    assert auc(np.full((2, 17), 75.0)) == pytest.approx(15 / 31 * 100)
    assert auc(np.full((2, 17), 200.0)) == 0.0
    # zero error: every threshold except 0 counts (strict '<', as in mmpose's keypoint_3d_auc)
    assert auc(np.zeros((2, 17))) == pytest.approx(30 / 31 * 100)


def test_reflection_allowed_p_mpjpe_forgives_a_mirrored_pose():
    """The mirror image of the truth (x -> -x), then turned, scaled and moved: the ElePose-style
    metric aligns it exactly (0 mm); the standard one cannot mirror, so it stays tens of mm."""
    rng = np.random.default_rng(11)
    target = random_poses(2, seed=12)
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    pred = 0.7 * mirrored @ random_rotation(rng) + np.array([30.0, -80.0, 5000.0])
    assert np.all(p_mpjpe(pred, target, allow_reflection=True) < 1e-9)
    assert np.all(p_mpjpe(pred, target) > 10.0)


def test_reflection_allowed_minimises_squared_error_and_agrees_on_unmirrored_poses():
    """Both alignments minimise the summed squared distance; allowing reflections can only lower
    that minimum. (MPJPE, the mean of unsquared distances, can still come out slightly higher for
    a pose whose least-squares best fit is a mirror image: ElePose's reflection='best' does the same.)"""
    target = random_poses(5, seed=13)
    pred = target + np.random.default_rng(14).normal(scale=20.0, size=target.shape)
    # small noise: the best orthogonal map is a rotation, so both metrics agree
    np.testing.assert_allclose(p_mpjpe(pred, target, allow_reflection=True), p_mpjpe(pred, target), rtol=1e-12)
    for candidate in (pred, pred * np.array([1.0, 1.0, -1.0]), random_poses(5, seed=15)):
        squared = ((procrustes_align(candidate, target) - target) ** 2).sum((1, 2))
        squared_reflection = ((procrustes_align(candidate, target, allow_reflection=True) - target) ** 2).sum((1, 2))
        assert np.all(squared_reflection <= squared + 1e-6)
    mirrored = pred * np.array([1.0, 1.0, -1.0])  # depth flipped: the reflection undoes it exactly
    np.testing.assert_allclose(p_mpjpe(mirrored, target, allow_reflection=True), p_mpjpe(pred, target), rtol=1e-9)
    assert np.all(p_mpjpe(mirrored, target) > p_mpjpe(pred, target))
