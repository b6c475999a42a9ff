"""Equal-compute comparison of svmac-train runs, e.g. with and without in-the-wild 2D: each
run's validation on the training subjects (its log) and its final weights on MuPoTS-3D.

Neither score looks at S9/S11: these runs are compared, not shipped. Writes
reports/wild_2d_comparison.md and .json.

Usage: python benchmarks/wild_2d_comparison.py --run LABEL RUN_DIR [--run ...] [--data DIR]
           [--out reports/wild_2d_comparison] [--machine TEXT]
"""

import argparse
import json
import sys
from pathlib import Path

from lifter.checkpoint import load_generator, read_weights_metadata, write_report
from lifter.data import data_root
from lifter.inference import lift_poses
from lifter.mupots import load_mupots, score
from lifter.train import LOG_NAME, VAL_KEY, WEIGHTS_NAME, read_train_log


def run_summary(run_dir: Path, mupots) -> dict:
    records = read_train_log(run_dir / LOG_NAME)
    validation = [(r["step"], r[VAL_KEY]) for r in records if VAL_KEY in r]
    if not validation:
        sys.exit(f"error: {run_dir / LOG_NAME} has no {VAL_KEY} records (a log from before the S9/S11 change?)")
    metadata = read_weights_metadata(run_dir / WEIGHTS_NAME)
    config = json.loads(metadata["train_config"])
    pred, _ = lift_poses(load_generator(run_dir / WEIGHTS_NAME), mupots.pose_2d)
    return {
        "run": str(run_dir),
        "steps": int(metadata["trained_steps"]),
        "minutes": round(records[-1]["elapsed_s"] / 60, 1),
        "data": metadata["data"],
        "wild_2d": config.get("wild_2d", []),
        "wild_fraction": config.get("wild_fraction", 0.0),
        "wild_as": config.get("wild_as", ""),
        "validation_curve": validation,
        "validation_last_mm": validation[-1][1],
        "validation_best_mm": min(v for _, v in validation),
        "mupots": {
            "all poses": score(pred, mupots),
            "indoor (TS1-5)": score(pred[mupots.indoor], mupots.select(mupots.indoor)),
            "outdoor (TS6-20)": score(pred[~mupots.indoor], mupots.select(~mupots.indoor)),
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", nargs=2, action="append", required=True, metavar=("LABEL", "RUN_DIR"))
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", type=Path, default=Path("reports/wild_2d_comparison"))
    p.add_argument("--machine", default="this project's CPU machine: 2 cores, no GPU, shared with other jobs")
    args = p.parse_args()
    mupots = load_mupots(data_root(args.data))
    rows = {label: run_summary(Path(run_dir), mupots) for label, run_dir in args.run}
    steps = sorted({step for row in rows.values() for step, _ in row["validation_curve"]})
    command = "python benchmarks/wild_2d_comparison.py " + " ".join(
        f'--run "{label}" {run_dir}' for label, run_dir in args.run
    )
    lines = [
        "# Equal-compute comparison: training-subject validation and MuPoTS-3D\n",
        f"Produced by `{command}` on {args.machine}. Validation: P-MPJPE (mm) on the training subjects' "
        "held-out frames (S1, S5-S8, every 64th frame, 4 cameras, ground-truth 2D), from each run's log. "
        "MuPoTS-3D: the final weights on ground-truth 2D, 20,760 valid instances, 15 scored joints "
        "(as in reports/cross_dataset.md: P-MPJPE without reflection, PCK@150 and AUC after alignment). "
        "S9/S11 were not looked at.\n",
        "| run | steps | minutes | in-the-wild 2D | validation last (best) | MuPoTS P-MPJPE | PCK@150 | AUC | "
        "indoor | outdoor |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows.items():
        wild = f"{'+'.join(r['wild_2d'])}, {r['wild_fraction']:g} of {r['wild_as']}" if r["wild_2d"] else "none"
        m = r["mupots"]
        lines.append(
            f"| {label} | {r['steps']} | {r['minutes']} | {wild} | {r['validation_last_mm']} "
            f"({r['validation_best_mm']}) | {m['all poses']['p_mpjpe']:.1f} | {m['all poses']['pck150']:.1f} | "
            f"{m['all poses']['auc']:.1f} | {m['indoor (TS1-5)']['p_mpjpe']:.1f} | "
            f"{m['outdoor (TS6-20)']['p_mpjpe']:.1f} |"
        )
    lines += ["", "Validation P-MPJPE (mm) by step:\n", "| run | " + " | ".join(map(str, steps)) + " |",
              "|---|" + "---:|" * len(steps)]  # fmt: skip
    for label, r in rows.items():
        by_step = dict(r["validation_curve"])
        lines.append(f"| {label} | " + " | ".join(str(by_step.get(s, "")) for s in steps) + " |")
    write_report(args.out, "\n".join(lines) + "\n", {"command": command, "machine": args.machine, "runs": rows})


if __name__ == "__main__":
    main()
