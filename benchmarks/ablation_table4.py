"""The paper's Table 4 ablation with our code: each row a svmac-train run, scored by svmac-eval.

Every run is given with the paper's Human3.6M figure for its row. Each run's final weights
(RUN/generator.safetensors) are evaluated on the full standard test set with ground-truth 2D
(the paper's Table 4 setting); its log gives the steps and wall-clock time it trained for, and
the weights' metadata the options it trained with. The report says whether our rows come in
the paper's order and names every pair that does not.

Usage: python benchmarks/ablation_table4.py --run LABEL RUN_DIR PAPER_MM [--run ...]
           [--out reports/ablation_table4] [--machine "..."]
"""

import argparse
import json
import os
import sys
from itertools import combinations
from pathlib import Path

import torch

from lifter.checkpoint import load_generator, read_weights_metadata, write_report
from lifter.data import TEST_SUBJECTS, data_root
from lifter.evaluate import evaluate, summarise
from lifter.train import LOG_NAME, WEIGHTS_NAME, read_train_log

# The options a Table 4 row changes, as svmac-train saves them (train_config in the weights).
ABLATED_OPTIONS = ("n_angles", "use_critic", "supervised_fraction")


def score_run(label: str, run_dir: Path, paper_mm: float, root: Path) -> dict:
    weights = run_dir / WEIGHTS_NAME
    if not weights.is_file():
        sys.exit(f"error: {weights} not found: has the run in {run_dir} finished?")
    config = json.loads(read_weights_metadata(weights)["train_config"])
    log = read_train_log(run_dir / LOG_NAME)
    summary = summarise(evaluate(load_generator(weights), root, "gt", "standard", TEST_SUBJECTS, None))
    return {
        "label": label,
        "run": str(run_dir),
        "paper_mm": paper_mm,
        "p_mpjpe_mm": round(summary["average_over_actions"]["p_mpjpe"], 1),
        "mpjpe_mm": round(summary["average_over_actions"]["mpjpe"], 1),
        "steps": log[-1]["step"],
        "minutes": round(log[-1]["elapsed_s"] / 60, 1),
        "options": {name: config[name] for name in ABLATED_OPTIONS},
        "bone_ratio_weight": config["weights"]["bone_ratio"],
    }


def order_disagreements(rows: list[dict]) -> list[str]:
    """Pairs of rows that the paper and we rank in opposite order (ties in the paper excluded)."""
    return [
        f"{a['label']} vs {b['label']}: paper {a['paper_mm']} / {b['paper_mm']}, ours {a['p_mpjpe_mm']} / {b['p_mpjpe_mm']}"
        for a, b in combinations(rows, 2)
        if (a["paper_mm"] - b["paper_mm"]) * (a["p_mpjpe_mm"] - b["p_mpjpe_mm"]) < 0
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", nargs=3, action="append", required=True, metavar=("LABEL", "RUN_DIR", "PAPER_MM"))
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", type=Path, default=Path("reports/ablation_table4"))
    p.add_argument("--machine", default="this project's CPU machine: 2 cores (AMD EPYC), no GPU")
    args = p.parse_args()
    root = data_root(args.data)
    rows = [score_run(label, Path(run_dir), float(paper), root) for label, run_dir, paper in args.run]
    disagreements = order_disagreements(rows)

    table = [
        "| row | paper | ours: P-MPJPE | ours: MPJPE | steps | minutes | run |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    table += [f"| {r['label']} | {r['paper_mm']} | {r['p_mpjpe_mm']} | {r['mpjpe_mm']} | {r['steps']} | "
              f"{r['minutes']} | `{r['run']}` |" for r in rows]  # fmt: skip
    command = "python benchmarks/ablation_table4.py " + " ".join(
        f'--run "{label}" {run_dir} {paper}' for label, run_dir, paper in args.run
    )
    verdict = (
        "Our rows come in the paper's order."
        if not disagreements
        else "Pairs ranked differently from the paper:\n\n" + "\n".join(f"- {d}" for d in disagreements)
    )
    text = (
        "# Table 4 ablation (Human3.6M, ground-truth 2D)\n\n"
        f"Machine: {args.machine}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"torch {torch.__version__}. P-MPJPE and MPJPE in mm, standard protocol (S9/S11, 4 cameras, every "
        'frame; 59 of the 60 sequences: S9 "Discussion 1" is missing from our data), the mean over actions. '
        "'paper': the paper's Table 4, Human3.6M column. 'minutes': the run's own wall-clock training time.\n\n"
        f"Produced by `{command}`.\n\n" + "\n".join(table) + f"\n\n{verdict}\n"
    )
    write_report(args.out, text, {"rows": rows, "order_disagreements": disagreements, "command": command})


if __name__ == "__main__":
    main()
