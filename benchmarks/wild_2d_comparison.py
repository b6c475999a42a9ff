"""Equal-compute comparison of svmac-train runs (in-the-wild 2D, the lifter-v2 ingredients): each
run's validation on the training subjects (its log) and its final weights on MuPoTS-3D.

A run warm-started with --init-from is given with the run it started from (RUN_DIR PARENT_DIR):
its minutes and its validation curve then count both. With --ema-decay the exported weights are
the EMA ones, so "last" is the EMA validation and the raw generator's is listed beside it.
Neither score looks at S9/S11: these runs are compared, not shipped. Writes OUT.md and OUT.json.

Usage: python benchmarks/wild_2d_comparison.py --run LABEL RUN_DIR [PARENT_DIR] [--run ...] [--data DIR]
           [--out reports/wild_2d_comparison] [--title TEXT] [--machine TEXT]
"""

import argparse
import json
import sys
from pathlib import Path

from lifter.checkpoint import load_generator, read_weights_metadata, write_report
from lifter.data import data_root
from lifter.inference import lift_poses
from lifter.mupots import load_mupots, score
from lifter.train import LOG_NAME, VAL_EMA_KEY, VAL_KEY, WEIGHTS_NAME, chain_train_logs, read_train_log


def validation_records(run_dir: Path, parent: Path | None) -> tuple[list[dict], float, float | None]:
    """The run's log records with elapsed_s and cpu_s counted from the parent's start, the parent's minutes,
    and the run's own CPU seconds (None in logs from before cpu_s)."""
    parents = [] if parent is None else [(parent / LOG_NAME, None)]
    *before, records = chain_train_logs(parents + [(run_dir / LOG_NAME, None)])
    parent_seconds = before[0][-1]["elapsed_s"] if before else 0.0
    own_cpu_s = read_train_log(run_dir / LOG_NAME)[-1].get("cpu_s")
    return records, parent_seconds / 60, own_cpu_s


def ingredients(config: dict) -> str:
    """The run's departures from the cpu presets that this comparison varies, as short text."""
    parts = []
    if config.get("wild_2d"):
        parts.append(f"wild {'+'.join(config['wild_2d'])} {config['wild_fraction']:g} {config['wild_as']}")
    if not config.get("use_critic", True):
        parts.append("no critic")
    if config.get("flow_prior"):
        parts.append(f"flow {Path(config['flow_prior']).stem} λ {config['weights'].get('flow', 0):g}")
    if config.get("rotation", "camera") != "camera":
        parts.append(f"rotation {config['rotation']}")
    if config["weights"].get("deformation"):
        parts.append(f"deformation λ {config['weights']['deformation']:g}")
    if config.get("ema_decay"):
        parts.append(f"EMA {config['ema_decay']:g}")
    if config["model"]["width"] != 256:
        parts.append(f"width {config['model']['width']}")
    if config["model"].get("part_split"):
        parts.append("legs and upper body lifted apart")
    if config.get("distilled_from"):
        parts.append(f"distilled from {config['distilled_from']}")
    return ", ".join(parts) or "none"


def run_summary(run_dir: Path, parent: Path | None, mupots) -> dict:
    records, parent_minutes, own_cpu_s = validation_records(run_dir, parent)
    metadata = read_weights_metadata(run_dir / WEIGHTS_NAME)
    config = json.loads(metadata["train_config"])
    key = VAL_EMA_KEY if config.get("ema_decay") else VAL_KEY
    validation = [(r["step"], r[key]) for r in records if key in r]
    if not validation:
        sys.exit(f"error: {run_dir / LOG_NAME} has no {key} records (a log from before the S9/S11 change?)")
    raw = [(r["step"], r[VAL_KEY]) for r in records if VAL_KEY in r]
    pred, _ = lift_poses(load_generator(run_dir / WEIGHTS_NAME), mupots.pose_2d)
    return {
        "run": str(run_dir),
        "parent": str(parent) if parent else None,
        "steps": int(metadata["trained_steps"]),
        "minutes": round(records[-1]["elapsed_s"] / 60, 1),
        "parent_minutes": round(parent_minutes, 1),
        "own_cpu_minutes": round(own_cpu_s / 60, 1) if own_cpu_s is not None else None,
        "cpu_ms_per_step": round(1000 * own_cpu_s / records[-1]["step"]) if own_cpu_s is not None else None,
        "data": metadata["data"],
        "ingredients": ingredients(config),
        "wild_2d": config.get("wild_2d", []),
        "wild_fraction": config.get("wild_fraction", 0.0),
        "wild_as": config.get("wild_as", ""),
        "validation_key": key,
        "validation_curve": validation,
        "validation_last_mm": validation[-1][1],
        "validation_best_mm": min(v for _, v in validation),
        "raw_generator_last_mm": raw[-1][1] if raw else None,
        "mupots": {
            "all poses": score(pred, mupots),
            "indoor (TS1-5)": score(pred[mupots.indoor], mupots.select(mupots.indoor)),
            "outdoor (TS6-20)": score(pred[~mupots.indoor], mupots.select(~mupots.indoor)),
        },
    }


TITLE = "Equal-compute comparison: training-subject validation and MuPoTS-3D"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", nargs="+", action="append", required=True, metavar="LABEL RUN_DIR [PARENT_DIR]")
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", type=Path, default=Path("reports/wild_2d_comparison"))
    p.add_argument("--title", default=TITLE)
    p.add_argument("--machine", default="this project's CPU machine: 2 cores, no GPU, shared with other jobs")
    args = p.parse_args()
    if any(len(run) not in (2, 3) for run in args.run):
        sys.exit("error: --run takes LABEL RUN_DIR [PARENT_DIR]")
    labels = [run[0] for run in args.run]
    if len(set(labels)) != len(labels):  # rows are keyed by label: a repeated one would hide a run
        sys.exit(f"error: --run labels must differ; repeated: {sorted({x for x in labels if labels.count(x) > 1})}")
    mupots = load_mupots(data_root(args.data))
    rows = {run[0]: run_summary(Path(run[1]), Path(run[2]) if len(run) == 3 else None, mupots) for run in args.run}
    steps = sorted({step for row in rows.values() for step, _ in row["validation_curve"]})
    command = "python benchmarks/wild_2d_comparison.py " + " ".join(
        f'--run "{run[0]}" ' + " ".join(run[1:]) for run in args.run
    )
    if args.title != TITLE:
        command += f' --title "{args.title}"'
    if args.out != Path("reports/wild_2d_comparison"):
        command += f" --out {args.out}"
    lines = [
        f"# {args.title}\n",
        f"Produced by `{command}` on {args.machine}. Validation: P-MPJPE (mm) on the training subjects' "
        "held-out frames (S1, S5-S8, every 64th frame, 4 cameras, ground-truth 2D), from each run's log "
        "(of the EMA weights when the run keeps one: those are the exported weights; the raw generator's last "
        "value beside it). Minutes: wall clock, including the run a warm start began from; CPU: the run's own "
        "process CPU time (its log's cpu_s), in minutes and per step. "
        "MuPoTS-3D: the final weights on ground-truth 2D, 20,760 valid instances, 15 scored joints "
        "(as in reports/cross_dataset.md: P-MPJPE without reflection, PCK@150 and AUC after alignment). "
        "S9/S11 were not looked at.\n",
        "| run | steps | minutes | CPU min (ms/step) | ingredients | validation last (best) | raw generator last | "
        "MuPoTS P-MPJPE | PCK@150 | AUC | indoor | outdoor |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows.items():
        m = r["mupots"]
        cpu = f"{r['own_cpu_minutes']} ({r['cpu_ms_per_step']})" if r["own_cpu_minutes"] is not None else ""
        lines.append(
            f"| {label} | {r['steps']} | {r['minutes']} | {cpu} | {r['ingredients']} | {r['validation_last_mm']} "
            f"({r['validation_best_mm']}) | {r['raw_generator_last_mm']} | {m['all poses']['p_mpjpe']:.1f} | "
            f"{m['all poses']['pck150']:.1f} | {m['all poses']['auc']:.1f} | {m['indoor (TS1-5)']['p_mpjpe']:.1f} | "
            f"{m['outdoor (TS6-20)']['p_mpjpe']:.1f} |"
        )
    lines += ["", "Validation P-MPJPE (mm) by step of each run's own log:\n",
              "| run | " + " | ".join(map(str, steps)) + " |", "|---|" + "---:|" * len(steps)]  # fmt: skip
    for label, r in rows.items():
        by_step = dict(r["validation_curve"])
        lines.append(f"| {label} | " + " | ".join(str(by_step.get(s, "")) for s in steps) + " |")
    write_report(args.out, "\n".join(lines) + "\n", {"command": command, "machine": args.machine, "runs": rows})


if __name__ == "__main__":
    main()
