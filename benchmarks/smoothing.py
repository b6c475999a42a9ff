"""Does smoothing the 2D before lifting help? P-MPJPE and 3D jitter on Human3.6M's Stacked-Hourglass
detections, treated as 50 fps video tracks of one person (camera 54138969, every frame).

Each sequence's SH 2D (mapped to H36M-17; the release has no per-joint scores, so every joint
counts as good and only the low-pass acts) is smoothed as app.smoothing.smooth_track_2d does it,
lifted frame by frame with the given weights, and scored against the real 3D:

- P-MPJPE: per-pose similarity Procrustes (scale, rotation, translation, no reflection), mm;
  the mean of the per-action means, as svmac-eval reports it, and over all poses;
- 3D jitter: the mean over frames and joints of |p(t+1) - 2 p(t) + p(t-1)|, the length of each
  joint's acceleration, in mm/frame^2 (x 2500 for mm/s^2 at 50 fps), of the root-relative
  camera-frame prediction brought to the ground truth's scale (the scale svmac-eval uses for MPJPE);
  the same measure on the ground-truth 3D is the real motion's own acceleration;
- acceleration error: the mean of |a_pred - a_true| with the same accelerations.

Settings are chosen on the training subjects S1, S5, S6, S7, S8 only (frame triplets t-1, t, t+1
every --sweep-step frames); the test subjects S9 and S11 are then evaluated once, every frame.

Writes reports/smoothing.md and .json. Usage (a few minutes of CPU):
    nice -n 10 python benchmarks/smoothing.py [--data DIR] [--weights W] [--threads 1]
"""

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.signal import butter, lfilter, lfilter_zi

from app.smoothing import (
    DEFAULT_CAUSAL_BETA,
    DEFAULT_CAUSAL_CUTOFF_HZ,
    DEFAULT_CUTOFF_HZ,
    FILTER_ORDER,
    one_euro,
    smooth_track_2d,
)
from lifter.checkpoint import file_sha256, load_generator, write_report
from lifter.data import RELEASED_CODE_CAMERA, TEST_SUBJECTS, TRAIN_SUBJECTS, PoseSet, data_root, load_h36m
from lifter.evaluate import predict_in_mm
from lifter.metrics import p_mpjpe

FPS = 50.0
ZERO_PHASE_CUTOFFS_HZ = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
ONE_EURO_CUTOFFS_HZ = (1.0, 2.0, 4.0)
ONE_EURO_BETAS = (0.5, 1.0, 2.0, 4.0)
CAUSAL_BUTTERWORTH_CUTOFFS_HZ = (4.0, 8.0, 12.0)  # the alternative the One-Euro filter replaced
POSE_FIELDS = ("pose_2d", "pose_3d", "subject", "action", "sequence", "camera", "frame")


@dataclass(frozen=True)
class Setting:
    method: str  # "none", "zero-phase" (shipped), "one-euro" (shipped causal), "causal-butterworth"
    cutoff_hz: float | None = None
    beta: float | None = None

    def label(self) -> str:
        if self.method == "none":
            return "none"
        return f"{self.method} {self.cutoff_hz:g} Hz" + (f", beta {self.beta:g}" if self.beta is not None else "")


@dataclass
class Sequence:
    subject: str
    name: str  # e.g. "Walking 1"
    action: str
    pose_2d: np.ndarray  # (T, 17, 2) SH detections, pixels
    pose_3d: np.ndarray  # (T, 17, 3) ground truth, camera frame, mm


def load_sequences(root: Path, subjects: tuple[str, ...]) -> tuple[list[Sequence], tuple[str, ...]]:
    """Every sequence of the subjects seen by camera 54138969, in frame order."""
    poses = load_h36m(root, subjects, (RELEASED_CODE_CAMERA,), 1, "sh")
    sequences = []
    starts = np.flatnonzero(poses.frame == 0).tolist() + [len(poses)]
    for start, stop in zip(starts[:-1], starts[1:]):
        sequences.append(Sequence(poses.subject[start], poses.sequence[start], poses.action[start],
                                  poses.pose_2d[start:stop], poses.pose_3d[start:stop]))  # fmt: skip
    return sequences, poses.missing_detections


def one_euro_all(sequences: list[Sequence], cutoff_hz: float, beta: float) -> list[np.ndarray]:
    """The One-Euro filter of every sequence in one pass: stacked along a batch axis, the shorter
    ones padded at the end (harmless: a causal filter never looks ahead). Checked against
    smooth_track_2d on the shortest sequence."""
    longest = max(len(s.pose_2d) for s in sequences)
    stacked = np.stack([np.pad(s.pose_2d.astype(np.float64), ((0, longest - len(s.pose_2d)), (0, 0), (0, 0)),
                               mode="edge") for s in sequences], axis=1)  # (T, S, 17, 2) # fmt: skip
    filtered = one_euro(stacked, FPS, cutoff_hz, beta)
    out = [filtered[: len(s.pose_2d), index] for index, s in enumerate(sequences)]
    shortest = int(np.argmin([len(s.pose_2d) for s in sequences]))
    count = len(sequences[shortest].pose_2d)
    reference, _ = smooth_track_2d(sequences[shortest].pose_2d, np.ones((count, 17)), np.arange(count), FPS,
                                   causal=True, cutoff_hz=cutoff_hz, beta=beta)  # fmt: skip
    np.testing.assert_allclose(out[shortest], reference, atol=1e-6)
    return out


def causal_butterworth(pose_2d: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """A 4th-order Butterworth run forwards only, started in the steady state of the first frame."""
    b, a = butter(FILTER_ORDER, cutoff_hz / (FPS / 2))
    flat = pose_2d.reshape(len(pose_2d), -1).astype(np.float64)  # (T, 34)
    zi = lfilter_zi(b, a)[:, None] * flat[0]  # (order, 34)
    return lfilter(b, a, flat, axis=0, zi=zi)[0].reshape(pose_2d.shape)


def smoothed_2d(sequences: list[Sequence], setting: Setting) -> list[np.ndarray]:
    """Each sequence's 2D (T, 17, 2) after the setting's smoothing."""
    if setting.method == "one-euro":
        return one_euro_all(sequences, setting.cutoff_hz, setting.beta)
    out = []
    for sequence in sequences:
        count = len(sequence.pose_2d)
        if setting.method == "none":
            out.append(sequence.pose_2d)
        elif setting.method == "causal-butterworth":
            out.append(causal_butterworth(sequence.pose_2d, setting.cutoff_hz))
        else:
            keypoints, _ = smooth_track_2d(sequence.pose_2d, np.ones((count, 17)), np.arange(count), FPS,
                                           cutoff_hz=setting.cutoff_hz)  # fmt: skip
            out.append(keypoints)
    return out


def triplet_frames(count: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres t (every step-th interior frame) and the sorted frames t-1, t, t+1 to lift."""
    centres = np.arange(1, count - 1, step)
    return centres, np.unique(np.concatenate([centres - 1, centres, centres + 1]))


def score(generator, sequences: list[Sequence], setting: Setting, step: int) -> dict:
    """P-MPJPE over the lifted frames, jitter and acceleration error at the centres."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in POSE_FIELDS}
    centre_rows = []
    offset = 0
    for sequence, pose_2d in zip(sequences, smoothed_2d(sequences, setting)):
        centres, frames = triplet_frames(len(pose_2d), step)
        parts["pose_2d"].append(pose_2d[frames].astype(np.float32))
        parts["pose_3d"].append(sequence.pose_3d[frames])
        for name, value in (("subject", sequence.subject), ("action", sequence.action),
                            ("sequence", sequence.name), ("camera", RELEASED_CODE_CAMERA)):  # fmt: skip
            parts[name].append(np.full(len(frames), value))
        parts["frame"].append(frames)
        centre_rows.append(offset + np.searchsorted(frames, centres))
        offset += len(frames)
    poses = PoseSet(**{name: np.concatenate(arrays) for name, arrays in parts.items()})
    pred_mm, gt_mm = predict_in_mm(generator, poses)  # (N, 17, 3) each
    errors = p_mpjpe(pred_mm, gt_mm)  # (N,)
    rows = np.concatenate(centre_rows)

    def acceleration(pose: np.ndarray) -> np.ndarray:
        return pose[rows + 1] - 2 * pose[rows] + pose[rows - 1]  # (centres, 17, 3) mm/frame^2

    return {
        "method": setting.method,
        "cutoff_hz": setting.cutoff_hz,
        "beta": setting.beta,
        "p_mpjpe_mm": float(np.mean([errors[poses.action == a].mean() for a in sorted(set(poses.action))])),
        "p_mpjpe_all_poses_mm": float(errors.mean()),
        "jitter_mm_per_frame2": float(np.linalg.norm(acceleration(pred_mm), axis=-1).mean()),
        "gt_jitter_mm_per_frame2": float(np.linalg.norm(acceleration(gt_mm), axis=-1).mean()),
        "acceleration_error_mm_per_frame2": float(
            np.linalg.norm(acceleration(pred_mm) - acceleration(gt_mm), axis=-1).mean()
        ),
        "poses": int(len(errors)),
        "jitter_frames": int(len(rows)),
    }


def sweep_settings() -> list[Setting]:
    return (
        [Setting("none")]
        + [Setting("zero-phase", cutoff) for cutoff in ZERO_PHASE_CUTOFFS_HZ]
        + [Setting("one-euro", cutoff, beta) for cutoff in ONE_EURO_CUTOFFS_HZ for beta in ONE_EURO_BETAS]
        + [Setting("causal-butterworth", cutoff) for cutoff in CAUSAL_BUTTERWORTH_CUTOFFS_HZ]
    )


def choose(rows: list[dict], method: str) -> Setting:
    """The setting of lowest training P-MPJPE (mean of per-action means) among those that leave the
    prediction at least as much acceleration as the real motion has: smoothing below that removes
    movement, not noise."""
    candidates = [r for r in rows if r["method"] == method]
    keeping_motion = [r for r in candidates if r["jitter_mm_per_frame2"] >= r["gt_jitter_mm_per_frame2"]]
    best = min(keeping_motion or candidates, key=lambda r: r["p_mpjpe_mm"])
    return Setting(method, best["cutoff_hz"], best["beta"])


def table(rows: list[dict], baseline: dict) -> str:
    lines = ["| smoothing | cutoff (Hz) | beta | P-MPJPE (mm) | all poses (mm) | 3D jitter (mm/frame²) | jitter vs none "
             "| acceleration error (mm/frame²) | poses |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        cutoff = "-" if r["cutoff_hz"] is None else f"{r['cutoff_hz']:g}"
        beta = "-" if r["beta"] is None else f"{r['beta']:g}"
        ratio = r["jitter_mm_per_frame2"] / baseline["jitter_mm_per_frame2"]
        lines.append(f"| {r['method']} | {cutoff} | {beta} | {r['p_mpjpe_mm']:.2f} | {r['p_mpjpe_all_poses_mm']:.2f} | "
                     f"{r['jitter_mm_per_frame2']:.2f} | {ratio:.2f}× | {r['acceleration_error_mm_per_frame2']:.2f} | "
                     f"{r['poses']} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--weights", type=Path, default=Path("weights/svmac_h36m_gt.safetensors"))
    p.add_argument("--sweep-step", type=int, default=25, help="training sweep: a frame triplet every N frames")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("reports/smoothing"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    root = data_root(args.data)
    generator = load_generator(args.weights)

    train, _ = load_sequences(root, TRAIN_SUBJECTS)
    train_rows = []
    for setting in sweep_settings():
        train_rows.append(score(generator, train, setting, args.sweep_step))
        print(f"train {setting.label()}: P-MPJPE {train_rows[-1]['p_mpjpe_mm']:.2f} mm, "
              f"jitter {train_rows[-1]['jitter_mm_per_frame2']:.2f}", file=sys.stderr, flush=True)  # fmt: skip
    chosen = {"zero-phase": choose(train_rows, "zero-phase"), "causal": choose(train_rows, "one-euro")}
    del train
    test, missing = load_sequences(root, TEST_SUBJECTS)
    test_rows = [score(generator, test, setting, 1) for setting in (Setting("none"), *chosen.values())]
    seconds = time.perf_counter() - start

    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores shared with other jobs, no GPU, "
               f"{args.threads} torch thread(s), torch {torch.__version__}")  # fmt: skip
    base, zero, causal = test_rows
    record = {
        "machine": machine,
        "weights": str(args.weights),
        "weights_sha256": file_sha256(args.weights),
        "camera": RELEASED_CODE_CAMERA,
        "fps": FPS,
        "filter_order": FILTER_ORDER,
        "sweep_step": args.sweep_step,
        "chosen": {mode: vars(setting) for mode, setting in chosen.items()},
        "train_sweep": train_rows,
        "test": test_rows,
        "test_jitter_ratio": {"zero-phase": zero["jitter_mm_per_frame2"] / base["jitter_mm_per_frame2"],
                              "causal": causal["jitter_mm_per_frame2"] / base["jitter_mm_per_frame2"]},  # fmt: skip
        "defaults_are_chosen": chosen["zero-phase"] == Setting("zero-phase", DEFAULT_CUTOFF_HZ)
        and chosen["causal"] == Setting("one-euro", DEFAULT_CAUSAL_CUTOFF_HZ, DEFAULT_CAUSAL_BETA),
        "missing_detections": list(missing),
        "seconds": round(seconds, 1),
    }
    command = "nice -n 10 python benchmarks/smoothing.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    text = f"""# Smoothing the 2D before lifting: P-MPJPE and 3D jitter on Human3.6M

Produced by `{command}` in {seconds:.0f} s on {machine}.
Weights `{args.weights}` (sha256 {record['weights_sha256'][:12]}…), no flip averaging. Input: the
Stacked-Hourglass 2D detections of camera {RELEASED_CODE_CAMERA} as 50 fps tracks of one person,
every frame, mapped to H36M-17. The release has no per-joint scores, so the gap filling of
`app/smoothing.py` is not exercised here, only the low-pass.

- **P-MPJPE**: mm after per-pose similarity Procrustes (scale, rotation, translation, no
  reflection); the mean of the per-action means (as svmac-eval's "Avg"), and over all poses.
- **3D jitter**: mean over frames and joints of |p(t+1) − 2p(t) + p(t−1)|, each joint's
  acceleration in mm/frame² (× 2500 for mm/s² at 50 fps), of the root-relative camera-frame
  prediction at the ground truth's scale. The ground truth's own value is the real motion's
  acceleration: a prediction below it has been smoothed of real movement.
- **Acceleration error**: mean |a_pred − a_true| with the same accelerations.

## Settings chosen on the training subjects only

Rule, per mode: the setting with the lowest P-MPJPE (mean of per-action means) on the training
subjects S1, S5, S6, S7, S8 (frame triplets t−1, t, t+1 every {args.sweep_step} frames) among those whose
3D jitter is not below the ground truth's own acceleration ({train_rows[0]['gt_jitter_mm_per_frame2']:.2f} mm/frame² on these frames):
below it, smoothing removes movement, not noise. The Human3.6M actions are slow, and a cutoff
tuned on them alone would flatten faster motion in users' videos: a 2 Hz movement (brisk steps,
an arm swing) keeps 50 % of its amplitude through the zero-phase filter at 2 Hz, 9 % at 1.5 Hz,
and a 3 Hz one 4 % at 2 Hz (the filter's |H|², 4th order run twice).

The causal filter is a One-Euro filter (speed-adaptive
first-order low-pass): at the same jitter it scored lower P-MPJPE than a causal 4th-order
Butterworth, whose lag costs accuracy (rows "causal-butterworth", measured for that choice only).

How honest this is: the rule was fixed from training numbers only, but development runs of
this script also scored the test subjects: at 3 Hz (the issue's setting, before any sweep), at
1.5 Hz zero-phase with a 12 Hz causal Butterworth (the plain training minimum, before the
motion-keeping condition and the One-Euro filter were added), and in a smoke run with a coarse
sweep (every 400th frame). The 1.5 Hz setting scored a lower test P-MPJPE than the one chosen now,
so the condition moved the choice away from the better test score, not towards it.

Chosen: **zero-phase Butterworth {chosen['zero-phase'].cutoff_hz:g} Hz; causal One-Euro
{chosen['causal'].cutoff_hz:g} Hz at rest, beta {chosen['causal'].beta:g}**. `app/smoothing.py`'s defaults:
{DEFAULT_CUTOFF_HZ:g} Hz; {DEFAULT_CAUSAL_CUTOFF_HZ:g} Hz, beta {DEFAULT_CAUSAL_BETA:g} ({'the same' if record['defaults_are_chosen'] else '**not the chosen ones: update them**'}).

{table(train_rows, train_rows[0])}

## Test subjects S9, S11, evaluated with the chosen settings

Every frame of the {len(test)} test sequences seen by camera {RELEASED_CODE_CAMERA} (S9 "Discussion 1" is
missing from our data; no detections for {', '.join(missing) or 'none'}).

{table(test_rows, base)}

Ground-truth motion's own acceleration: {base['gt_jitter_mm_per_frame2']:.2f} mm/frame².

- Zero-phase, {chosen['zero-phase'].cutoff_hz:g} Hz: P-MPJPE {base['p_mpjpe_mm']:.1f} → **{zero['p_mpjpe_mm']:.1f} mm** (all poses
  {base['p_mpjpe_all_poses_mm']:.1f} → {zero['p_mpjpe_all_poses_mm']:.1f}); 3D jitter {base['jitter_mm_per_frame2']:.1f} → {zero['jitter_mm_per_frame2']:.2f} mm/frame²
  (**{record['test_jitter_ratio']['zero-phase']:.2f}×**).
- Causal One-Euro: P-MPJPE {base['p_mpjpe_mm']:.1f} → **{causal['p_mpjpe_mm']:.1f} mm** (all poses
  {base['p_mpjpe_all_poses_mm']:.1f} → {causal['p_mpjpe_all_poses_mm']:.1f}); 3D jitter {base['jitter_mm_per_frame2']:.1f} → {causal['jitter_mm_per_frame2']:.2f} mm/frame²
  (**{record['test_jitter_ratio']['causal']:.2f}×**).
"""
    write_report(args.out, text, record)


if __name__ == "__main__":
    main()
