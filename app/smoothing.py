"""Smoothing one person's 2D joints through a clip, before lifting.

Detector jitter is mostly frame-to-frame noise far above the frequencies at which a body moves,
and a per-frame lifter turns it into 3D jitter; filtering the 2D track first removes it at the
source (mmpose found 2D-before-lifting smoothing better than smoothing the 3D). Two steps:

1. low-score joints are filled over short gaps: linearly between the good frames around the gap
   (zero-phase), or by holding the last good position (causal, which cannot see the gap's end);
2. a 4th-order Butterworth low-pass: run forwards and backwards (zero phase, no lag; needs the
   whole track) or forwards only (causal, for streams: the output at frame t uses frames <= t).

A track can skip frames (the person left the view or was not found): each contiguous run of
frame indices is filled and filtered on its own, as filtering across a hole would blend poses
that are seconds apart. Cutoff: reports/smoothing.md (chosen on Human3.6M training subjects).
"""

import numpy as np
from scipy.signal import butter, filtfilt, lfilter, lfilter_zi

from lifter.errors import SvmacError

FILTER_ORDER = 4
# Chosen on the Human3.6M training subjects' Stacked-Hourglass tracks (benchmarks/smoothing.py).
DEFAULT_CUTOFF_HZ = 3.0
DEFAULT_CAUSAL_CUTOFF_HZ = 3.0
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


def low_pass(signal: np.ndarray, b: np.ndarray, a: np.ndarray, causal: bool) -> np.ndarray:
    """Filter a finite signal (T, C) along time; frames before a channel's first finite value stay
    NaN (causal only). Zero-phase runs shorter than filtfilt's usual padding get a shorter pad."""
    if causal:
        out = np.full_like(signal, np.nan)
        for channel in range(signal.shape[1]):
            known = np.flatnonzero(np.isfinite(signal[:, channel]))
            if len(known):
                x = signal[known[0] :, channel]
                # Start in the steady state of the first value, so the output does not rise from 0.
                out[known[0] :, channel], _ = lfilter(b, a, x, zi=lfilter_zi(b, a) * x[0])
        return out
    if len(signal) < 2:
        return signal.copy()
    padlen = min(3 * max(len(a), len(b)), len(signal) - 1)
    return filtfilt(b, a, signal, axis=0, padlen=padlen)


def smooth_track_2d(
    keypoints: np.ndarray,
    scores: np.ndarray,
    frames: np.ndarray,
    fps: float,
    causal: bool = False,
    cutoff_hz: float | None = None,
    min_score: float = 0.5,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill short low-score gaps of one track's 2D joints, then low-pass them.

    keypoints (F, 17, 2) pixels (NaN for joints the detector did not place), scores (F, 17),
    frames (F,) increasing frame indices of the track, fps the clip's frame rate.
    cutoff_hz: the low-pass cutoff (default DEFAULT_CUTOFF_HZ, or DEFAULT_CAUSAL_CUTOFF_HZ when
    causal); at or above the Nyquist frequency fps/2 there is nothing to cut and only the gaps are
    filled. Returns (keypoints (F, 17, 2), filled (F, 17) bool: joints whose position was filled
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
    max_gap = int(round(max_gap_s * fps))
    nyquist = fps / 2
    filter_ba = butter(FILTER_ORDER, cutoff_hz / nyquist) if cutoff_hz < nyquist else None

    out = np.asarray(keypoints, dtype=np.float64).copy()
    filled = np.zeros(scores.shape, bool)
    for run in contiguous_runs(np.asarray(frames)):
        points = out[run]  # (T, 17, 2) view into out
        good = (scores[run] >= min_score) & np.isfinite(points).all(-1)  # (T, 17)
        for joint in range(points.shape[1]):
            points[:, joint], filled[run, joint] = fill_gaps(points[:, joint], good[:, joint], max_gap, causal)
        if filter_ba is None:
            continue
        flat = points.reshape(len(points), -1)  # (T, 34)
        missing = ~np.isfinite(flat)
        smoothed = low_pass(bridge_missing(flat, causal), *filter_ba, causal)
        smoothed[missing] = np.nan
        points[:] = smoothed.reshape(points.shape)
    return out, filled
