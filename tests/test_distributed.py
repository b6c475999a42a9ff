"""svmac-train under torchrun: 2 CPU processes (gloo) stay in lockstep, stop together, resume.

Run as a script (by torchrun), this file is the worker: it calls lifter.train.main and then
saves what its own process ended with to DUMP/rank{RANK}.pt, so the test can compare the ranks.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lifter.checkpoint import load_training_state
from lifter.train import CHECKPOINT_NAME, LOG_NAME, WEIGHTS_NAME

TINY = ["--width", "32", "--batch-size", "16", "--train-frame-step", "50", "--val-frame-step", "400",
        "--device", "cpu", "--log-every", "2", "--checkpoint-every", "100000", "--val-every", "100000"]  # fmt: skip
TORCHRUN = Path(sys.executable).with_name("torchrun")


def torchrun(dump: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    cmd = [str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "--monitor-interval", "0.2", __file__,
           str(dump), *TINY, *args]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def fail(proc: subprocess.Popen) -> None:
    proc.terminate()  # torchrun passes SIGTERM on to its workers (and SIGKILLs them 30 s later)
    try:
        err = proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        err = proc.communicate()[1]
    pytest.fail(err.decode()[-3000:])


def finish(proc: subprocess.Popen) -> str:
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        fail(proc)
    assert proc.returncode == 0, err.decode()[-3000:]
    return err.decode()


def assert_ranks_identical(dump: Path) -> list[dict]:
    ranks = [torch.load(dump / f"rank{rank}.pt", weights_only=True) for rank in (0, 1)]
    for part in ("generator", "critic"):
        for name, tensor in ranks[0][part].items():
            torch.testing.assert_close(tensor, ranks[1][part][name], rtol=0, atol=0, msg=f"{part}.{name}")
    for part in ("opt_g", "opt_d"):
        for key, state in ranks[0][part]["state"].items():
            torch.testing.assert_close(state["exp_avg_sq"], ranks[1][part]["state"][key]["exp_avg_sq"], rtol=0, atol=0)
    # ... although each rank drew its own batches: their last losses differ.
    assert ranks[0]["terms"]["generator"] != ranks[1]["terms"]["generator"]
    return ranks


def test_two_processes_stop_together_and_resume(data_dir, tmp_path):
    out, dump = tmp_path / "run", tmp_path / "dump"
    dump.mkdir()
    proc = torchrun(dump, "--data", str(data_dir), "--out", str(out), "--steps", "100000")
    deadline = time.time() + 90
    while not ((out / LOG_NAME).exists() and (out / LOG_NAME).read_text().count("\n") >= 2):
        if proc.poll() is not None or time.time() > deadline:
            fail(proc)
        time.sleep(0.2)
    os.kill(int((dump / "pid1").read_text()), signal.SIGTERM)  # rank 1 only: rank 0 must stop too
    assert "continue with --resume" in finish(proc)
    stopped = load_training_state(out / CHECKPOINT_NAME)["step"]
    assert 4 <= stopped < 100000
    ranks = assert_ranks_identical(dump)
    assert ranks[0]["step"] == ranks[1]["step"] == stopped
    # Every bias starts at zero, and so does the camera head's last weight: training moved them all
    # (but the critic's output bias, to which the WGAN loss is blind).
    camera_head = [name for name in ranks[0]["generator"] if name.startswith("camera_branch.")][-2]
    critic_output_bias = list(ranks[0]["critic"])[-1]
    for part in ("generator", "critic"):
        for name, tensor in ranks[0][part].items():
            if (name.endswith("bias") or name == camera_head) and name != critic_output_bias:
                assert tensor.abs().max() > 0, f"{part}.{name} did not train"

    err = finish(torchrun(dump, "--data", str(data_dir), "--out", str(out), "--resume", "--steps", str(stopped + 2)))
    assert err.count("svmac-train:") == 1  # only rank 0 reports
    ranks = assert_ranks_identical(dump)
    assert ranks[0]["step"] == load_training_state(out / CHECKPOINT_NAME)["step"] == stopped + 2
    # Only rank 0 wrote: one checkpoint, one weights file, one log line per logged step.
    assert sorted(p.name for p in out.iterdir()) == sorted([CHECKPOINT_NAME, LOG_NAME, WEIGHTS_NAME])
    steps = [json.loads(line)["step"] for line in (out / LOG_NAME).read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == stopped + 2


def worker(dump: Path, argv: list[str]) -> int:
    """One torchrun process: lifter.train.main, then this rank's final state to dump."""
    import lifter.train

    rank = os.environ["RANK"]
    (dump / f"pid{rank}").write_text(str(os.getpid()))
    seen = {}
    train, train_step = lifter.train.train, lifter.train.Trainer.train_step

    def keep_trainer(*args, **kwargs):
        seen["trainer"] = train(*args, **kwargs)
        return seen["trainer"]

    def keep_terms(self, data):
        seen["terms"] = train_step(self, data)
        return seen["terms"]

    lifter.train.train, lifter.train.Trainer.train_step = keep_trainer, keep_terms
    code = lifter.train.main(argv)
    trainer = seen["trainer"]
    state = {key: trainer.state_dict()[key] for key in ("step", "generator", "critic", "opt_g", "opt_d")}
    torch.save(
        {**state, "terms": {name: float(value) for name, value in seen["terms"].items()}}, dump / f"rank{rank}.pt"
    )
    return code


if __name__ == "__main__":
    sys.exit(worker(Path(sys.argv[1]), sys.argv[2:]))
