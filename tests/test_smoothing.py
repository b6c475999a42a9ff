"""app.smoothing: gap filling and the Butterworth low-pass, checked against hand-computable values."""

import numpy as np
import pytest
from scipy.optimize import brentq

from app.smoothing import FILTER_ORDER, contiguous_runs, smooth_track_2d
from lifter.errors import SvmacError

FPS = 50.0


def constant_track(count: int, value: float = 7.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    pose = rng.uniform(100, 900, (17, 2))  # one fixed pose, in pixels
    return np.broadcast_to(pose, (count, 17, 2)).copy(), np.ones((count, 17)), np.arange(count)


def sine_track(frequency_hz: float, seconds: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Every joint's x follows sin(2 pi f t), y is 0. Returns keypoints (F, 17, 2) and times (F,)."""
    times = np.arange(int(seconds * FPS)) / FPS
    keypoints = np.zeros((len(times), 17, 2))
    keypoints[..., 0] = np.sin(2 * np.pi * frequency_hz * times)[:, None]
    return keypoints, times


def amplitude(signal: np.ndarray, times: np.ndarray, frequency_hz: float) -> float:
    """Least-squares amplitude of the sinusoid of this frequency in a signal."""
    basis = np.stack([np.sin(2 * np.pi * frequency_hz * times), np.cos(2 * np.pi * frequency_hz * times)], 1)
    coefficients, *_ = np.linalg.lstsq(basis, signal, rcond=None)
    return float(np.hypot(*coefficients))


def butterworth_gain(frequency_hz: float, cutoff_hz: float) -> float:
    """|H| of a digital Butterworth low-pass (bilinear transform with pre-warped cutoff)."""
    ratio = np.tan(np.pi * frequency_hz / FPS) / np.tan(np.pi * cutoff_hz / FPS)
    return float(1 / np.sqrt(1 + ratio ** (2 * FILTER_ORDER)))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("count", [1, 2, 3, 7, 15, 16, 40, 300])
def test_constant_pose_stays_constant(causal, count):
    keypoints, scores, frames = constant_track(count)
    out, filled = smooth_track_2d(keypoints, scores, frames, FPS, causal=causal, cutoff_hz=3.0)
    np.testing.assert_allclose(out, keypoints, atol=1e-9)
    assert not filled.any()


@pytest.mark.parametrize("frequency_hz", [0.5, 1.0, 4.0, 6.0, 10.0])
def test_zero_phase_gain_is_butterworth_squared(frequency_hz):
    keypoints, times = sine_track(frequency_hz)
    out, _ = smooth_track_2d(keypoints, np.ones(keypoints.shape[:2]), np.arange(len(times)), FPS, cutoff_hz=3.0)
    middle = slice(100, -100)  # away from the ends, where the padding acts
    measured = amplitude(out[middle, 5, 0], times[middle], frequency_hz)
    expected = butterworth_gain(frequency_hz, 3.0) ** 2  # forwards and backwards: |H|^2
    assert measured == pytest.approx(expected, rel=0.02, abs=2e-4)
    if frequency_hz <= 1.0:
        assert measured > 0.99  # well below the cutoff: passes
    if frequency_hz >= 6.0:
        assert measured < 0.005  # an octave above: -50 dB
    # zero phase: the passed sinusoid is not delayed
    peak = np.argmax(out[middle, 5, 0][: int(FPS / frequency_hz)])
    assert abs(peak - np.argmax(keypoints[middle, 5, 0][: int(FPS / frequency_hz)])) <= 1


def one_euro_factor(cutoff_hz: float) -> float:
    """The One-Euro filter's smoothing factor at a cutoff: y += a (x - y) each frame."""
    return 1 / (1 + FPS / (2 * np.pi * cutoff_hz))


@pytest.mark.parametrize("frequency_hz", [0.5, 3.0, 10.0])
def test_causal_at_rest_is_first_order_low_pass(frequency_hz):
    """With beta = 0 the One-Euro filter is exponential smoothing, |H| = a / |1 - (1 - a) e^-jw|."""
    keypoints, times = sine_track(frequency_hz)
    keypoints *= 0.01  # small motion around a pose, so the speed term would barely act anyway
    keypoints += constant_track(len(times))[0]
    out, _ = smooth_track_2d(keypoints, np.ones(keypoints.shape[:2]), np.arange(len(times)), FPS,
                             causal=True, cutoff_hz=3.0, beta=0.0)  # fmt: skip
    late = slice(len(times) // 2, None)  # after the start transient
    measured = amplitude(out[late, 0, 0] - keypoints[0, 0, 0], times[late], frequency_hz) / 0.01
    a = one_euro_factor(3.0)
    expected = a / abs(1 - (1 - a) * np.exp(-2j * np.pi * frequency_hz / FPS))
    assert measured == pytest.approx(expected, rel=0.02)


def test_causal_follows_fast_motion_with_less_lag():
    """A joint moving at constant speed v px/frame trails by L = v (1 - a) / a, where a is the
    smoothing factor at cutoff_hz + beta * speed; the filter estimates the speed from the step
    from its last output, (L + v) px/frame, in person sizes per second: L solves a fixed point."""
    count = 200
    keypoints, scores, frames = constant_track(count)
    speed_px = 4.0  # px per frame, the whole person
    keypoints += speed_px * np.arange(count)[:, None, None] * np.array([1.0, 0.0])
    size = np.hypot(*np.ptp(keypoints[0], axis=0))
    lags = []
    for beta in (0.0, 2.0):
        out, _ = smooth_track_2d(keypoints, scores, frames, FPS, causal=True, cutoff_hz=1.0, beta=beta)
        lag = keypoints[-1, :, 0] - out[-1, :, 0]  # (17,) px, in the steady state
        def trailing_error(lag_px: float) -> float:
            a = one_euro_factor(1.0 + beta * (lag_px + speed_px) * FPS / size)
            return speed_px * (1 - a) / a - lag_px

        expected = brentq(trailing_error, 0.0, 1000.0)
        np.testing.assert_allclose(lag, expected, rtol=0.01)
        lags.append(expected)
        np.testing.assert_allclose(out[-1, :, 1], keypoints[-1, :, 1])  # no vertical motion, none made up
    assert lags[1] < 0.5 * lags[0]  # the speed term roughly halves the lag here


def test_cutoff_at_nyquist_only_fills_gaps():
    keypoints, times = sine_track(20.0, seconds=2)
    out, _ = smooth_track_2d(keypoints, np.ones(keypoints.shape[:2]), np.arange(len(times)), FPS, cutoff_hz=25.0)
    np.testing.assert_array_equal(out, keypoints)


def test_short_gap_interpolated_long_gap_and_ends_kept():
    count = 60
    keypoints = np.zeros((count, 17, 2))
    keypoints[..., 0] = np.arange(count)[:, None] * 3.0  # every joint moves 3 px/frame to the right
    keypoints[..., 1] = 50.0
    scores = np.ones((count, 17))
    noisy = keypoints.copy()
    scores[10:14, 2] = 0.1  # 4 frames: within 0.2 s = 10 frames
    noisy[10:14, 2] = [500.0, -40.0]
    scores[20:32, 4] = 0.2  # 12 frames: too long, the detections stay
    noisy[20:32, 4] = [900.0, 900.0]
    scores[:3, 7] = 0.0  # at the start: nothing before to interpolate from
    noisy[:3, 7] = np.nan
    scores[40:43, 9] = 0.9
    out, filled = smooth_track_2d(noisy, scores, np.arange(count), FPS, cutoff_hz=FPS, min_score=0.5)
    np.testing.assert_allclose(out[10:14, 2], keypoints[10:14, 2])  # linear motion, linear fill
    assert filled[10:14, 2].all() and filled.sum() == 4
    np.testing.assert_array_equal(out[20:32, 4], noisy[20:32, 4])
    assert np.isnan(out[:3, 7]).all()  # not filled, still absent
    np.testing.assert_array_equal(np.delete(out, [2, 7], axis=1), np.delete(noisy, [2, 7], axis=1))


def test_causal_gap_holds_last_good_position():
    keypoints, scores, frames = constant_track(30)
    keypoints[:, 0, 0] = np.arange(30.0)
    scores[12:15, 0] = 0.0
    out, filled = smooth_track_2d(keypoints, scores, frames, FPS, causal=True, cutoff_hz=1e7)  # ~no smoothing
    np.testing.assert_allclose(out[12:15, 0, 0], [11.0, 11.0, 11.0], atol=1e-3)
    assert filled[12:15, 0].all() and filled.sum() == 3


def test_nan_joint_does_not_spread_to_others():
    keypoints, times = sine_track(1.0, seconds=4)
    keypoints[:, 3] = np.nan  # a joint never seen
    keypoints[50:80, 6] = np.nan  # a joint lost for 0.6 s
    scores = np.where(np.isnan(keypoints).any(-1), 0.0, 1.0)
    for causal in (False, True):
        out, _ = smooth_track_2d(keypoints, scores, np.arange(len(times)), FPS, causal=causal)
        assert np.isnan(out[:, 3]).all()
        # causal: the first 0.2 s of the hole hold the last position, as the hole's end is unknown
        lost = slice(60, 80) if causal else slice(50, 80)
        assert np.isnan(out[lost, 6]).all() and np.isfinite(np.delete(out[:, 6], np.r_[lost], axis=0)).all()
        assert np.isfinite(np.delete(out, [3, 6], axis=1)).all()


def test_causal_output_never_depends_on_the_future():
    rng = np.random.default_rng(1)
    count = 120
    keypoints = rng.normal(500, 20, (count, 17, 2))
    scores = rng.uniform(0.2, 1.0, (count, 17))
    frames = np.arange(count)
    causal, _ = smooth_track_2d(keypoints, scores, frames, FPS, causal=True)
    zero_phase, _ = smooth_track_2d(keypoints, scores, frames, FPS)
    for t in (0, 30, 77, 118):
        changed_kp, changed_scores = keypoints.copy(), scores.copy()
        changed_kp[t + 1 :] += rng.normal(0, 100, changed_kp[t + 1 :].shape)
        changed_scores[t + 1 :] = rng.uniform(0, 1, changed_scores[t + 1 :].shape)
        out, _ = smooth_track_2d(changed_kp, changed_scores, frames, FPS, causal=True)
        np.testing.assert_array_equal(out[: t + 1], causal[: t + 1])
        # the zero-phase filter does look ahead: the same check catches a non-causal filter
        out_zero, _ = smooth_track_2d(changed_kp, changed_scores, frames, FPS)
        assert np.abs(out_zero[: t + 1] - zero_phase[: t + 1]).max() > 1e-3


def test_runs_with_a_hole_in_frames_are_filtered_apart():
    keypoints, scores, _ = constant_track(100)
    frames = np.concatenate([np.arange(50), np.arange(80, 130)])  # the person was away for 30 frames
    keypoints[50:] += 300.0  # and came back elsewhere
    for causal in (False, True):
        out, _ = smooth_track_2d(keypoints, scores, frames, FPS, causal=causal)
        np.testing.assert_allclose(out, keypoints, atol=1e-9)  # no blending across the hole
    assert [(r.start, r.stop) for r in contiguous_runs(frames)] == [(0, 50), (50, 100)]
    assert contiguous_runs(np.array([4])) == [slice(0, 1)]


@pytest.mark.parametrize("fps, cutoff, max_gap", [(0.0, 3.0, 0.2), (np.nan, 3.0, 0.2), (50.0, -1.0, 0.2),
                                                  (50.0, 0.0, 0.2), (50.0, 3.0, -0.1)])  # fmt: skip
def test_bad_settings_are_user_errors(fps, cutoff, max_gap):
    keypoints, scores, frames = constant_track(10)
    with pytest.raises(SvmacError):
        smooth_track_2d(keypoints, scores, frames, fps, cutoff_hz=cutoff, max_gap_s=max_gap)
