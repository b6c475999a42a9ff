"""Pose-error metrics in millimetres: MPJPE, P-MPJPE, PCK and AUC (batched numpy)."""

import numpy as np

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.linspace(0.0, 150.0, 31)


def similarity_fit(
    source: np.ndarray, target: np.ndarray, allow_reflection: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-pose similarity transform (scale, rotation, translation) that best maps source onto target.

    source, target (N, J, D) -> scale (N, 1, 1), rotation (N, D, D), source_mean and target_mean
    (N, 1, D); x maps to scale * (x - source_mean) @ rotation + target_mean. No reflections,
    unless allowed: then "rotation" is the best orthogonal matrix, det -1 where mirroring fits better.
    """
    mu_source = source.mean(1, keepdims=True)
    mu_target = target.mean(1, keepdims=True)
    p = source - mu_source
    t = target - mu_target
    norm_p = np.linalg.norm(p, axis=(1, 2), keepdims=True).clip(min=1e-12)
    norm_t = np.linalg.norm(t, axis=(1, 2), keepdims=True)
    u, s, vt = np.linalg.svd(np.swapaxes(p / norm_p, 1, 2) @ (t / norm_t))  # (N, D, D): H = p^T t
    if not allow_reflection:
        d = np.sign(np.linalg.det(u @ vt))  # (N,) -1 where the optimum is a reflection
        s[:, -1] *= d
        u[:, :, -1] *= d[:, None]
    rotation = u @ vt  # p @ rotation ~ t
    scale = s.sum(-1)[:, None, None] * norm_t / norm_p  # optimal scale onto the un-normalised target
    return scale, rotation, mu_source, mu_target


def procrustes_align(pred: np.ndarray, target: np.ndarray, allow_reflection: bool = False) -> np.ndarray:
    """Per-pose similarity transform (scale, rotation, translation) of pred onto target.

    pred, target (N, J, 3) -> aligned pred (N, J, 3). Reflections are not allowed unless asked.
    """
    scale, rotation, mu_pred, mu_target = similarity_fit(pred, target, allow_reflection)
    return scale * ((pred - mu_pred) @ rotation) + mu_target


def joint_errors(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Euclidean error per joint. (N, J, 3) -> (N, J)"""
    return np.linalg.norm(pred - target, axis=-1)


def mpjpe(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mean per-joint error of root-relative poses, per pose. (N, J, 3) -> (N,)"""
    return joint_errors(pred, target).mean(-1)


def p_mpjpe(pred: np.ndarray, target: np.ndarray, allow_reflection: bool = False) -> np.ndarray:
    """MPJPE after per-pose similarity Procrustes alignment. (N, J, 3) -> (N,)

    The standard metric (ours, the paper's) aligns by a rotation. allow_reflection also lets the
    alignment mirror the pose where that fits better in the least-squares sense, as ElePose's
    evaluation does (reflection='best'): a prediction that is the mirror image of the truth then
    scores 0, so that number is only for like-for-like comparisons with such results. It is
    usually lower, but per pose it can be higher: least squares, not the mean distance, picks
    the mirror.
    """
    return mpjpe(procrustes_align(pred, target, allow_reflection), target)


def pck(errors: np.ndarray, threshold: float = PCK_THRESHOLD_MM) -> float:
    """Percentage of joints with error below the threshold. errors (N, J)"""
    return float((errors < threshold).mean() * 100)


def auc(errors: np.ndarray) -> float:
    """Mean PCK over thresholds 0..150 mm (31 steps), in percent. errors (N, J)"""
    return float(np.mean([pck(errors, t) for t in AUC_THRESHOLDS_MM]))
