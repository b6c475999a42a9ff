"""How long svmac-eval takes on the full standard test set (S9/S11, 4 cameras, every frame).

Runs svmac-eval in a fresh process per checkpoint and 2D input, as a user would, and records its
wall-clock time (data loading, lifting, Procrustes alignment and the per-action tables included).
Writes reports/eval_speed.md and .json.
Usage: python benchmarks/eval_speed.py --weights W.safetensors [W2 ...] [--input gt sh] [--threads 2]
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from lifter.checkpoint import write_report
from lifter.data import INPUT_SOURCES

LIMIT_S = 300  # the target: any shipped checkpoint in at most 5 minutes on 2 CPU cores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", nargs="+", required=True, type=Path)
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--input", nargs="+", default=list(INPUT_SOURCES), choices=INPUT_SOURCES)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("reports/eval_speed"))
    args = p.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    rows = []
    for weights in args.weights:
        for source in args.input:
            command = [sys.executable, "-m", "lifter.evaluate", "--weights", str(weights), "--input", source,
                       "--protocol", "standard", "--device", "cpu"] + (["--data", args.data] if args.data else [])  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"error: svmac-eval failed on {weights} ({done.stderr.strip().splitlines()[-1]})")
            summary = done.stderr.strip().splitlines()[-1]  # "gt / standard: P-MPJPE 72.2 mm over N poses"
            rows.append({"weights": str(weights), "input": source, "seconds": round(seconds, 1), "result": summary})
            print(rows[-1], flush=True)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
               f"{args.threads} threads, torch {torch.__version__}")  # fmt: skip
    table = "\n".join(
        f"| `{r['weights']}` | {r['input']} | {r['seconds']} | {'yes' if r['seconds'] <= LIMIT_S else 'NO'} | "
        f"{r['result']} |"
        for r in rows
    )
    text = (
        "# svmac-eval on the full standard test set: wall-clock time\n\n"
        f"Machine: {machine}, no GPU. S9/S11, 4 cameras, every frame (59 of the 60 sequences: S9 "
        '"Discussion 1" is missing from our data), one svmac-eval process per row.\n\n'
        f"Produced by `python benchmarks/eval_speed.py {' '.join(sys.argv[1:])}`.\n\n"
        f"| weights | 2D input | seconds | within {LIMIT_S} s | svmac-eval's summary |\n|---|---|---:|---|---|\n"
        f"{table}\n"
    )
    write_report(args.out, text, {"machine": machine, "rows": rows})


if __name__ == "__main__":
    main()
