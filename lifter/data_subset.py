"""Write a smaller copy of the Human3.6M files (every k-th frame) for a machine that cannot
read SVMAC_DATA, e.g. a rented GPU reached through a size-limited transfer.

The copy is laid out like SVMAC_DATA, so `svmac-train --data COPY --train-frame-step 1
--val-frame-step 64/K` on it trains and validates on exactly the poses `--train-frame-step K`
(and the default --val-frame-step 64) use on the full data, the validation frames being
frames of the training subjects. Like the original, the copy is licensed for research only:
never commit it.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from lifter.checkpoint import atomic_write
from lifter.data import CAMERAS_FILE, POSES_FILE, TEST_SUBJECTS, TRAIN_SUBJECTS, data_root, load_npz
from lifter.errors import exit_on_user_error


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lifter.data_subset", description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--train-frame-step", type=int, default=2)
    p.add_argument("--test-frame-step", type=int, default=64)
    args = p.parse_args(argv)
    root = data_root(args.data)
    poses = load_npz(root / POSES_FILE)
    steps = {**{s: args.train_frame_step for s in TRAIN_SUBJECTS}, **{s: args.test_frame_step for s in TEST_SUBJECTS}}
    subset = {key: value[:: steps[key.split("/")[0]]] for key, value in poses.items() if key.split("/")[0] in steps}
    for name, arrays in ((POSES_FILE, subset), (CAMERAS_FILE, load_npz(root / CAMERAS_FILE))):
        atomic_write(args.out / name, lambda tmp, arrays=arrays: np.savez(open(tmp, "wb"), **arrays))
    print(f"wrote {len(subset)} sequences to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
