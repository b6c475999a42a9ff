"""svmac-train --part-split and python -m lifter.distill on real data with tiny networks."""

import json

import pytest
import torch

from lifter.checkpoint import load_generator, load_training_state, read_weights_metadata
from lifter.distill import distillation_loss
from lifter.distill import main as distill_main
from lifter.geometry import CAMERA_DISTANCE
from lifter.model import Generator, PartGenerator
from lifter.train import CHECKPOINT_NAME, LOG_NAME, VAL_EMA_KEY, WEIGHTS_NAME
from test_train import run, same_states

STUDENT = ["--width", "32", "--batch-size", "16", "--val-every", "3"]


def test_distillation_loss_by_hand():
    depth = torch.zeros(2, 17)
    camera = torch.zeros(2, 2, 3)
    assert distillation_loss((None, camera, depth), (None, camera, depth)).item() == 0.0
    shifted_depth = depth.clone()
    shifted_depth[0, 3] = 2.0  # one depth off by 2 among 34: 4 / 34
    shifted_camera = camera.clone()
    shifted_camera[1, 0, 0] = 1.0 / CAMERA_DISTANCE  # one camera entry off by one prior scale among 12: 1 / 12
    loss = distillation_loss((None, shifted_camera, shifted_depth), (None, camera, depth))
    assert loss.item() == pytest.approx(4 / 34 + 1 / 12)


@pytest.fixture(scope="module")
def teacher(data_dir, tmp_path_factory):
    """A tiny part-split run: the legs and the upper body lifted by two networks."""
    out = tmp_path_factory.mktemp("teacher")
    assert run(data_dir, out, "--part-split", "--steps", "4", "--ema-decay", "0.9") == 0
    return out


def test_part_split_run_trains_exports_and_loads(teacher):
    generator = load_generator(teacher / WEIGHTS_NAME)
    assert isinstance(generator, PartGenerator) and generator.cfg.part_split
    state = load_training_state(teacher / CHECKPOINT_NAME)
    assert state["config"]["model"]["part_split"] and state["step"] == 4


def distil(data_dir, teacher, out, *extra: str) -> int:
    argv = ["--teacher", str(teacher / CHECKPOINT_NAME), "--out", str(out), "--data", str(data_dir), *STUDENT]
    return distill_main([*argv, *extra])


def test_distilled_student_is_one_network_logged_like_a_training_run(data_dir, teacher, tmp_path):
    assert distil(data_dir, teacher, tmp_path, "--steps", "30", "--lr", "0.003") == 0
    student = load_generator(tmp_path / WEIGHTS_NAME)
    assert type(student) is Generator and not student.cfg.part_split and student.cfg.width == 32
    records = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert [r["step"] for r in records if VAL_EMA_KEY in r] == list(range(3, 31, 3))
    losses = [r["distillation"] for r in records]
    assert sum(losses[-3:]) < 0.5 * sum(losses[:3])  # the student learns the teacher's answers
    config = json.loads(read_weights_metadata(tmp_path / WEIGHTS_NAME)["train_config"])
    assert config["distilled_from"].endswith(CHECKPOINT_NAME) and config["model"]["part_split"] is False


def test_distillation_resumes_exactly(data_dir, teacher, tmp_path):
    """6 steps at once == 3 steps, stop, resume to 6 (a constant learning rate: a decaying one is
    scheduled over the run's --steps, as in svmac-train)."""
    constant = ["--lr-final-ratio", "1"]
    assert distil(data_dir, teacher, tmp_path / "straight", "--steps", "6", *constant) == 0
    assert distil(data_dir, teacher, tmp_path / "split", "--steps", "3", *constant) == 0
    assert distil(data_dir, teacher, tmp_path / "split", "--steps", "6", "--resume") == 0
    same_states(tmp_path / "straight", tmp_path / "split", ("generator", "generator_ema"), step=6)


def test_bad_teachers_get_one_line(data_dir, tmp_path, capsys):
    plain = tmp_path / "plain"
    assert run(data_dir, plain, "--steps", "1") == 0
    assert distil(data_dir, plain, tmp_path / "a", "--steps", "2") == 2
    assert "not a part-split run" in capsys.readouterr().err
    assert distil(data_dir, tmp_path / "missing", tmp_path / "b", "--steps", "2") == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_part_split_refuses_elepose_in_one_line(data_dir, tmp_path, capsys):
    assert run(data_dir, tmp_path, "--part-split", "--rotation", "elepose", "--steps", "1") == 2
    assert "part-split" in capsys.readouterr().err
