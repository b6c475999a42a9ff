"""Smoothing one person's 2D joints through a clip, before lifting.

Detector jitter is mostly frame-to-frame noise far above the frequencies at which a body moves,
and a per-frame lifter turns it into 3D jitter; filtering the 2D track first removes it at the
source (mmpose found 2D-before-lifting smoothing better than smoothing the 3D). Two steps:

1. low-score joints are filled over short gaps: linearly between the good frames around the gap
   (zero-phase), or by holding the last good position (causal, which cannot see the gap's end);
2. a low-pass: a 4th-order Butterworth run forwards and backwards (zero phase, no lag; needs the
   whole track), or for streams a causal One-Euro filter (the output at frame t uses frames <= t;
   its cutoff rises with a joint's speed, which lags less than a causal Butterworth at the same
   smoothing: reports/smoothing.md measured both).

A track can skip frames (the person left the view or was not found): each contiguous run of
frame indices is filled and filtered on its own, as filtering across a hole would blend poses
that are seconds apart. Cutoff: reports/smoothing.md (chosen on Human3.6M training subjects).
"""

import numpy as np
from scipy.signal import butter, filtfilt

from lifter.errors import SvmacError

FILTER_ORDER = 4
# Chosen on the Human3.6M training subjects' Stacked-Hourglass tracks (benchmarks/smoothing.py).
DEFAULT_CUTOFF_HZ = 2.0
DEFAULT_CAUSAL_CUTOFF_HZ = 4.0  # the One-Euro filter's cutoff for a joint at rest
DEFAULT_CAUSAL_BETA = 0.5  # Hz more per person size per second of a joint's speed
ONE_EURO_DERIVATIVE_CUTOFF_HZ = 1.0  # the usual choice: speed estimates change slower than positions
# A limb moves roughly linearly over a fifth of a second; longer holes are left to the detector.
DEFAULT_MAX_GAP_S = 0.2


def contiguous_runs(frames: np.ndarray) -> list[slice]:
    """Slices of a track's increasing frame indices (F,) where consecutive entries differ by 1."""
    breaks = np.flatnonzero(np.diff(frames) != 1) + 1
    edges = [0, *breaks.tolist(), len(frames)]
    return [slice(start, stop) for start, stop in zip(edges[:-1], edges[1:]) if stop > start]


def previous_and_next_good(good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each frame of a run, the index of the last good frame at or before it and of the first
    good frame at or after it; -1 / len(good) where there is none. good (T,) bool -> (T,), (T,)."""
    count = len(good)
    index = np.arange(count)
    previous = np.maximum.accumulate(np.where(good, index, -1))
    following = np.minimum.accumulate(np.where(good, index, count)[::-1])[::-1]
    return previous, following


def fill_gaps(values: np.ndarray, good: np.ndarray, max_gap: int, causal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Fill one joint's bad frames that lie within max_gap frames of good ones.

    values (T, 2), good (T,) bool -> (filled values (T, 2), filled (T,) bool). Zero-phase: only
    holes between two good frames, at most max_gap long, linearly interpolated. Causal: bad frames
    at most max_gap after a good one take that good frame's position (nothing later is known).
    """
    out = values.copy()
    index = np.arange(len(good))
    previous, following = previous_and_next_good(good)
    if causal:
        filled = ~good & (previous >= 0) & (index - previous <= max_gap)
        out[filled] = values[previous[filled]]
        return out, filled
    filled = ~good & (previous >= 0) & (following < len(good)) & (following - previous - 1 <= max_gap)
    if filled.any():
        known = np.flatnonzero(good)
        for axis in range(values.shape[1]):
            out[filled, axis] = np.interp(index[filled], known, values[known, axis])
    return out, filled


def bridge_missing(values: np.ndarray, causal: bool) -> np.ndarray:
    """Stand-in values where a signal (T, C) is NaN, only so that the filter can run through the
    holes (the caller puts the NaNs back): linear between finite neighbours and held at the ends
    (zero-phase), or the last finite value held (causal; NaN stays before the first finite one)."""
    out = values.copy()
    index = np.arange(len(values))
    for channel in range(values.shape[1]):
        finite = np.isfinite(values[:, channel])
        if finite.all() or not finite.any():
            continue
        known = np.flatnonzero(finite)
        if causal:
            previous, _ = previous_and_next_good(finite)
            held = ~finite & (previous >= 0)
            out[held, channel] = values[previous[held], channel]
        else:
            out[~finite, channel] = np.interp(index[~finite], known, values[known, channel])
    return out


def zero_phase_low_pass(signal: np.ndarray, cutoff_hz: float, fps: float) -> np.ndarray:
    """Butterworth low-pass run forwards and backwards along time. signal (T, C) finite -> (T, C).
    At or above the Nyquist frequency there is nothing to cut; runs shorter than filtfilt's usual
    padding get a shorter pad."""
    if cutoff_hz >= fps / 2 or len(signal) < 2:
        return signal.copy()
    b, a = butter(FILTER_ORDER, cutoff_hz / (fps / 2))
    padlen = min(3 * max(len(a), len(b)), len(signal) - 1)
    return filtfilt(b, a, signal, axis=0, padlen=padlen)


def person_size(points: np.ndarray) -> np.ndarray:
    """Diagonal of the box around the finite joints: (..., J, 2) -> (..., 1, 1); inf if none."""
    finite = np.isfinite(points)
    extent = np.where(finite, points, -np.inf).max(-2) - np.where(finite, points, np.inf).min(-2)  # (..., 2)
    return np.maximum(np.hypot(extent[..., 0], extent[..., 1]), 1e-6)[..., None, None]


def one_euro(points: np.ndarray, fps: float, min_cutoff_hz: float, beta: float) -> np.ndarray:
    """Causal One-Euro filter (Casiez et al., CHI 2012) of joint tracks: a first-order low-pass
    whose cutoff rises with speed, so still joints are smoothed hard and moving ones follow with
    little lag. points (T, ..., J, 2), frames along axis 0; joints NaN until their first finite
    value. Speed is measured in person sizes per second (the box diagonal of the frame's joints),
    so beta (Hz per size/s) means the same at any resolution."""
    def smoothing_factor(cutoff_hz):
        return 1.0 / (1.0 + fps / (2 * np.pi * cutoff_hz))

    derivative_factor = smoothing_factor(ONE_EURO_DERIVATIVE_CUTOFF_HZ)
    out = np.empty_like(points)
    position = points[0].copy()
    velocity = np.zeros_like(position)  # px per second, itself low-passed
    out[0] = position
    for t in range(1, len(points)):
        current = points[t]
        velocity += derivative_factor * ((current - position) * fps - velocity)
        speed = np.linalg.norm(velocity, axis=-1, keepdims=True) / person_size(current)
        position = position + smoothing_factor(min_cutoff_hz + beta * speed) * (current - position)
        # A joint seen for the first time starts where it is, at rest.
        position = np.where(np.isnan(position), current, position)
        velocity = np.where(np.isnan(velocity), 0.0, velocity)
        out[t] = position
    return out


def smooth_track_2d(
    keypoints: np.ndarray,
    scores: np.ndarray,
    frames: np.ndarray,
    fps: float,
    causal: bool = False,
    cutoff_hz: float | None = None,
    min_score: float = 0.5,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    beta: float = DEFAULT_CAUSAL_BETA,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill short low-score gaps of one track's 2D joints, then low-pass them.

    keypoints (F, 17, 2) pixels (NaN for joints the detector did not place), scores (F, 17),
    frames (F,) increasing frame indices of the track, fps the clip's frame rate.
    cutoff_hz: the zero-phase Butterworth's cutoff (default DEFAULT_CUTOFF_HZ; at or above the
    Nyquist frequency fps/2 only the gaps are filled), or when causal the One-Euro filter's cutoff
    at rest (default DEFAULT_CAUSAL_CUTOFF_HZ), which rises by beta Hz per person size per second
    of a joint's speed. Returns (keypoints (F, 17, 2), filled (F, 17) bool: joints whose position was filled
    in from neighbouring frames rather than detected). NaN joints that were not filled stay NaN.
    """
    count = len(frames)
    if keypoints.shape != (count, keypoints.shape[1], 2) or scores.shape != keypoints.shape[:2]:
        raise ValueError(f"keypoints {keypoints.shape}, scores {scores.shape} and frames ({count},) disagree")
    if not np.isfinite(fps) or fps <= 0:
        raise SvmacError(f"cannot smooth a track at {fps} frames per second")
    if cutoff_hz is None:
        cutoff_hz = DEFAULT_CAUSAL_CUTOFF_HZ if causal else DEFAULT_CUTOFF_HZ
    if not np.isfinite(cutoff_hz) or cutoff_hz <= 0:
        raise SvmacError(f"smoothing cutoff must be a positive frequency in Hz, got {cutoff_hz}")
    if max_gap_s < 0:
        raise SvmacError(f"the longest gap to fill must be >= 0 s, got {max_gap_s}")
    if not np.isfinite(beta) or beta < 0:
        raise SvmacError(f"the One-Euro speed coefficient beta must be >= 0, got {beta}")
    max_gap = int(round(max_gap_s * fps))

    out = np.asarray(keypoints, dtype=np.float64).copy()
    filled = np.zeros(scores.shape, bool)
    for run in contiguous_runs(np.asarray(frames)):
        points = out[run]  # (T, 17, 2) view into out
        good = (scores[run] >= min_score) & np.isfinite(points).all(-1)  # (T, 17)
        for joint in range(points.shape[1]):
            points[:, joint], filled[run, joint] = fill_gaps(points[:, joint], good[:, joint], max_gap, causal)
        flat = points.reshape(len(points), -1)  # (T, 34)
        missing = ~np.isfinite(flat)
        bridged = bridge_missing(flat, causal)
        if causal:
            smoothed = one_euro(bridged.reshape(points.shape), fps, cutoff_hz, beta).reshape(flat.shape)
        else:
            smoothed = zero_phase_low_pass(bridged, cutoff_hz, fps)
        smoothed[missing] = np.nan
        points[:] = smoothed.reshape(points.shape)
    return out, filled
