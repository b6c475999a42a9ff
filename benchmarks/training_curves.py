"""Accuracy per unit of compute: validation P-MPJPE against wall-clock time (or, with --clock cpu,
the process's CPU time: fairer for runs that shared the machine), one curve per run.

Reads svmac-train logs (train_log.jsonl). A run started with --init-from continues other runs:
give their logs as its parents, oldest first, each as LOG or LOG:STEP (the checkpoint it started
from), and its curve starts where they ended, so every curve counts all the compute behind it.
Within a log a resume restarts elapsed_s; the restarts are chained. Writes a PNG plot and a
markdown table (time to reach each threshold, best value).

Usage: python benchmarks/training_curves.py --run LABEL LOG [PARENT[:STEP] ...] [--run ...]
           --out reports/training_curves [--machine "2 CPU cores, ..."] [--clock wall|cpu] [--key ema]
"""

import argparse
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from cycler import cycler  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lifter.checkpoint import atomic_write, write_report  # noqa: E402
from lifter.train import VAL_EMA_KEY, VAL_KEY, chain_train_logs, read_train_log  # noqa: E402

CLOCKS = {"wall": "elapsed_s", "cpu": "cpu_s"}  # --clock: the log field the curves run along
THRESHOLDS_MM = (80.0, 70.0, 65.0, 60.0, 56.5, 45.0)  # 56.5: the paper (GT 2D); 45: this project's goal
OLD_VAL_KEY = "val_p_mpjpe_mm"  # logs written before svmac-train stopped validating on S9/S11
VALIDATION_SETS = {
    VAL_EMA_KEY: "the EMA generator on the training subjects S1, S5-S8, 4 cameras, every 64th frame, held out of "
    "the training 2D (23,172 poses)",
    VAL_KEY: "training subjects S1, S5-S8, 4 cameras, every 64th frame, held out of the training 2D (23,172 poses)",
    OLD_VAL_KEY: "S9/S11 (the test subjects), 4 cameras, every 64th frame (8,238 poses)",
}


def validation_key(records: list[dict]) -> str:
    """The log's validation metric: the training-subject one, or in older logs the S9/S11 one."""
    return VAL_KEY if any(VAL_KEY in r for r in records) else OLD_VAL_KEY


def parent_part(spec: str) -> tuple[Path, int | None]:
    """'LOG' or 'LOG:STEP' (a warm start from that run's checkpoint at STEP) -> (log, last step)."""
    log, _, step = spec.rpartition(":") if spec.rpartition(":")[2].isdigit() else (spec, "", "")
    return Path(log), int(step) if step else None


def clock_records(log: Path, clock: str) -> list[dict]:
    """The log's records; a CPU-time curve needs every record to have cpu_s (logs from before it do not)."""
    records = read_train_log(log)
    if any(CLOCKS[clock] not in r for r in records):
        sys.exit(f"error: {log} has records without {CLOCKS[clock]}: plot it with --clock wall")
    return records


def validation_curve(
    log: Path, parents: list[str], key: str, clock: str = "wall"
) -> tuple[list[float], list[float], float]:
    """(minutes, P-MPJPE mm) of every validation (log key `key`) along the chain of runs, and the
    minutes spent in the parents. parents: oldest first, each 'LOG' or 'LOG:STEP'."""
    seconds = CLOCKS[clock]
    logs = [parent_part(spec) for spec in parents] + [(log, None)]
    for path, _ in logs:
        clock_records(path, clock)  # every log must have the clock
    *before, own = chain_train_logs(logs)
    minutes = [r[seconds] / 60 for records in before + [own] for r in records if key in r]
    values = [r[key] for records in before + [own] for r in records if key in r]
    return minutes, values, (before[-1][-1][seconds] / 60 if before else 0.0)


def first_time_below(minutes: list[float], values: list[float], threshold: float) -> float | None:
    return next((m for m, v in zip(minutes, values) if v <= threshold), None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", nargs="+", action="append", required=True, metavar="LABEL LOG [PARENT[:STEP] ...]")
    p.add_argument("--out", type=Path, default=Path("reports/training_curves"))
    p.add_argument("--machine", default="this project's CPU machine: 2 cores, no GPU")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="x axis: wall-clock time, or the training process's CPU time (logs with cpu_s)")  # fmt: skip
    p.add_argument("--key", choices=["raw", "ema"], default="raw",
                   help="the raw generator's validation, or the EMA generator's (runs with --ema-decay)")  # fmt: skip
    args = p.parse_args()
    figure = Figure(figsize=(8, 5), dpi=120)
    axes = figure.add_subplot()
    # ten colours, solid then dashed: up to twenty runs stay apart
    axes.set_prop_cycle(cycler(linestyle=["-", "--"]) * cycler(color=matplotlib.colormaps["tab10"].colors))
    rows = []
    if any(len(run) < 2 for run in args.run):
        sys.exit("error: --run takes LABEL LOG [PARENT[:STEP] ...]")
    keys = {validation_key(read_train_log(Path(run[1]))) for run in args.run}
    if len(keys) > 1:
        sys.exit("error: the logs validate on different sets (S9/S11 and training subjects); plot them apart")
    key = keys.pop()
    if args.key == "ema":
        if key != VAL_KEY:
            sys.exit("error: --key ema needs logs that validate on the training subjects")
        key = VAL_EMA_KEY
    for run in args.run:
        label, log, parents = run[0], Path(run[1]), run[2:]
        minutes, values, start = validation_curve(log, parents, key, args.clock)
        if not values:
            sys.exit(f"error: {log} has no {key} records")
        line = axes.plot(minutes, values, marker=".", label=label)[0]
        if start:
            axes.axvline(start, color=line.get_color(), linestyle=":", linewidth=0.8)
        records = read_train_log(log)
        speed = [r["steps_per_s"] for r in records if "steps_per_s" in r]
        rows.append({
            "label": label, "log": str(log), "warm_started_from": parents,
            "minutes": round(minutes[-1], 1), "own_minutes": round(minutes[-1] - start, 1),
            "steps": records[-1]["step"], "steps_per_s": speed[-1] if speed else None,
            "best_mm": min(values), "last_mm": values[-1],
            "minutes_to": {str(t): (round(m, 1) if (m := first_time_below(minutes, values, t)) is not None else None)
                           for t in THRESHOLDS_MM},
        })  # fmt: skip
    for threshold, style in ((56.5, "--"), (45.0, ":")):
        axes.axhline(threshold, color="gray", linestyle=style, linewidth=0.8)
        axes.annotate(f"{threshold} mm", (0, threshold), textcoords="offset points", xytext=(2, 2), fontsize=8)
    clock_name = {"wall": "wall-clock", "cpu": "training-process CPU"}[args.clock]
    axes.set_xlabel(f"{clock_name} minutes (including the run it started from)")
    axes.set_ylabel("validation P-MPJPE (mm, " + ("S9/S11" if key == OLD_VAL_KEY else "training subjects") + ")")
    axes.set_ylim(top=min(120, axes.get_ylim()[1]))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper right")
    axes.set_title("\n".join(textwrap.wrap(f"SVMAC training on {args.machine}", 110)), fontsize=8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out.with_suffix(".png"), lambda f: figure.savefig(f, format="png", bbox_inches="tight"))

    header = "| run | minutes (own) | steps | steps/s | best | last | " + " | ".join(f"≤ {t:g}" for t in THRESHOLDS_MM)
    lines = [header + " |", "|---" * (6 + len(THRESHOLDS_MM)) + "|"]
    for r in rows:
        reached = [f"{m} min" if (m := r["minutes_to"][str(t)]) is not None else "—" for t in THRESHOLDS_MM]
        lines.append(f"| {r['label']} | {r['minutes']} ({r['own_minutes']}) | {r['steps']} | {r['steps_per_s'] or '—'} | "
                     f"{r['best_mm']} | {r['last_mm']} | " + " | ".join(reached) + " |")  # fmt: skip
    command = "python benchmarks/training_curves.py " + " ".join(
        "--run " + " ".join(f'"{x}"' if " " in x else x for x in run) for run in args.run
    )
    command += f" --out {args.out}" + (f" --clock {args.clock}" if args.clock != "wall" else "")
    command += f" --key {args.key}" if args.key != "raw" else ""
    text = (
        f"# Validation P-MPJPE against {clock_name} time\n\n"
        f"Machine: {args.machine}. Validation: {VALIDATION_SETS[key]}, "
        f"P-MPJPE in mm; '≤ t': {clock_name} minutes until the first validation at or below t mm, counting "
        "the run a warm start began from; '—': not reached.\n\n"
        f"Produced by `{command}`.\n\n![curves]({args.out.name}.png)\n\n" + "\n".join(lines) + "\n"
    )
    write_report(args.out, text, {"machine": args.machine, "clock": args.clock, "validation": VALIDATION_SETS[key],
                                  "runs": rows})  # fmt: skip


if __name__ == "__main__":
    main()
