"""svmac-train end to end on real data with a tiny network: outputs, exact resume, SIGTERM."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lifter.checkpoint import load_generator, load_training_state, read_weights_metadata
from lifter.train import (
    CHECKPOINT_NAME,
    LOG_NAME,
    VAL_EMA_KEY,
    VAL_KEY,
    WEIGHTS_NAME,
    chain_train_logs,
    main,
    read_train_log,
)

TINY = ["--width", "32", "--batch-size", "16", "--train-frame-step", "50", "--val-frame-step", "400",
        "--device", "cpu", "--log-every", "2", "--val-every", "3"]  # fmt: skip


def run(data_dir, out, *extra: str) -> int:
    return main(["--data", str(data_dir), "--out", str(out), *TINY, *extra])


def same_states(run_a, run_b, parts: tuple[str, ...], step: int) -> tuple[dict, dict]:
    """Both runs' checkpoints at step, with bit-identical tensors in each of parts; -> the two states."""
    a, b = load_training_state(run_a / CHECKPOINT_NAME), load_training_state(run_b / CHECKPOINT_NAME)
    assert a["step"] == b["step"] == step
    for part in parts:
        for name, tensor in a[part].items():
            torch.testing.assert_close(tensor, b[part][name], rtol=0, atol=0, msg=f"{part}.{name}")
    return a, b


def test_outputs_and_log(data_dir, tmp_path):
    assert run(data_dir, tmp_path, "--steps", "4") == 0
    records = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 3, 4]
    for name in ("critic", "adversarial", "consistency_3d", "camera_equality", "svmac", "angle", "weak_camera",
                 "symmetry", "generator"):  # fmt: skip
        assert all(name in r for r in records if r["step"] != 3), name
    assert [r["step"] for r in records if VAL_KEY in r] == [3, 4]
    assert all(torch.isfinite(torch.tensor(r[VAL_KEY])) for r in records if VAL_KEY in r)
    assert not any("val_p_mpjpe_mm" in r for r in records)  # the old key meant S9/S11
    assert load_training_state(tmp_path / CHECKPOINT_NAME)["step"] == 4
    load_generator(tmp_path / WEIGHTS_NAME)


def test_resume_continues_exactly(data_dir, tmp_path):
    """6 steps at once == 3 steps, stop, resume to 6: model, critic and optimisers identical."""
    assert run(data_dir, tmp_path / "straight", "--steps", "6") == 0
    assert run(data_dir, tmp_path / "split", "--steps", "3") == 0
    assert run(data_dir, tmp_path / "split", "--steps", "6", "--resume") == 0
    a, b = same_states(tmp_path / "straight", tmp_path / "split", ("generator", "critic"), step=6)
    for name in ("opt_g", "opt_d"):
        for key, state in a[name]["state"].items():
            torch.testing.assert_close(state["exp_avg"], b[name]["state"][key]["exp_avg"], rtol=0, atol=0)


def test_refuses_to_overwrite_a_run(data_dir, tmp_path, capsys):
    assert run(data_dir, tmp_path, "--steps", "1") == 0
    assert run(data_dir, tmp_path, "--steps", "2") == 2
    assert "--resume" in capsys.readouterr().err


def test_variants_run(data_dir, tmp_path):
    """The ablations of Table 4: n = 1, 3, no critic, 3D supervision."""
    for i, extra in enumerate((["--n-angles", "1"], ["--n-angles", "3"], ["--no-critic"],
                               ["--supervised-fraction", "0.05"])):  # fmt: skip
        assert run(data_dir, tmp_path / str(i), "--steps", "2", *extra) == 0


def test_critic_steps_elevation_and_bone_ratio_prior(data_dir, tmp_path):
    assert run(data_dir, tmp_path, "--steps", "2", "--critic-steps", "3", "--elevation", "20",
               "--lambda-bone-ratio", "3") == 0  # fmt: skip
    record = json.loads((tmp_path / LOG_NAME).read_text().splitlines()[-1])
    assert record["bone_ratio"] > 0
    state = load_training_state(tmp_path / CHECKPOINT_NAME)
    critic_updates = {int(s["step"]) for s in state["opt_d"]["state"].values()}
    generator_updates = {int(s["step"]) for s in state["opt_g"]["state"].values()}
    assert critic_updates == {6} and generator_updates == {2}


def test_bfloat16_autocast_trains_and_keeps_float32_weights(data_dir, tmp_path):
    """--amp bf16 (autocast on a CUDA device by default, forced here on the CPU): the critic's
    gradient penalty differentiates twice through bfloat16 layers; losses stay finite and the
    weights, optimiser state and checkpoint stay float32."""
    assert run(data_dir, tmp_path, "--steps", "4", "--amp", "bf16", "--critic-steps", "2") == 0
    records = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert all(math.isfinite(value) for record in records for value in record.values())
    assert records[-1]["critic"] != 0 and VAL_KEY in records[-1]
    state = load_training_state(tmp_path / CHECKPOINT_NAME)
    assert state["config"]["amp"] == "bf16"
    assert {t.dtype for t in state["generator"].values() if t.is_floating_point()} == {torch.float32}
    assert {s["exp_avg"].dtype for s in state["opt_d"]["state"].values()} == {torch.float32}


def test_amp_auto_is_bfloat16_on_cuda_only():
    from lifter.train import autocast_dtype

    assert autocast_dtype("auto", torch.device("cpu")) is None  # bfloat16 was 28x slower on our CPU
    assert autocast_dtype("off", torch.device("cuda")) is None
    assert autocast_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    if torch.cuda.is_available():
        expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else None
        assert autocast_dtype("auto", torch.device("cuda")) == expected


def test_init_from_starts_from_another_runs_weights(data_dir, tmp_path):
    assert run(data_dir, tmp_path / "first", "--steps", "2") == 0
    source = load_training_state(tmp_path / "first" / CHECKPOINT_NAME)
    # Another width on the command line: the architecture comes from the checkpoint.
    assert run(data_dir, tmp_path / "second", "--width", "64", "--steps", "1", "--lr", "1e-12",
               "--ema-decay", "0.9", "--init-from", str(tmp_path / "first" / CHECKPOINT_NAME)) == 0  # fmt: skip
    second = load_training_state(tmp_path / "second" / CHECKPOINT_NAME)
    assert second["step"] == 1 and second["config"]["model"]["width"] == 32
    # One step at a vanishing learning rate moves no weight measurably: the run began from source's,
    # and so did its EMA (from a fresh random generator it would be 0.9 of that one).
    for name, tensor in source["generator"].items():
        if tensor.is_floating_point() and "running" not in name:
            torch.testing.assert_close(second["generator"][name], tensor, rtol=0, atol=1e-6, msg=name)
            torch.testing.assert_close(second["generator_ema"][f"module.{name}"], tensor, rtol=0, atol=1e-6, msg=name)
    # An elevation head the source lacks starts fresh; everything else still comes from the source.
    assert run(data_dir, tmp_path / "third", "--steps", "1", "--lr", "1e-12", "--rotation", "elepose",
               "--init-from", str(tmp_path / "first" / CHECKPOINT_NAME)) == 0  # fmt: skip
    third = load_training_state(tmp_path / "third" / CHECKPOINT_NAME)
    assert third["config"]["model"]["elevation_head"] and "elevation_head.3.weight" in third["generator"]
    torch.testing.assert_close(
        third["generator"]["trunk.0.weight"], source["generator"]["trunk.0.weight"], rtol=0, atol=1e-6
    )


def test_compact_checkpoint_is_half_the_size_and_resumes(data_dir, tmp_path):
    from lifter import checkpoint

    assert run(data_dir, tmp_path / "full", "--steps", "3") == 0
    (tmp_path / "compact").mkdir()
    compact = tmp_path / "compact" / CHECKPOINT_NAME
    assert checkpoint.main(["compact", str(tmp_path / "full" / CHECKPOINT_NAME), str(compact)]) == 0
    full_state, compact_state = load_training_state(tmp_path / "full" / CHECKPOINT_NAME), load_training_state(compact)
    assert compact_state["generator"]["trunk.0.weight"].dtype == torch.bfloat16
    assert [int(s["step"]) for s in compact_state["opt_g"]["state"].values()] == [
        int(s["step"]) for s in full_state["opt_g"]["state"].values()
    ]
    # a tiny network: pickled structure and the random state weigh more than at real widths (0.50)
    assert compact.stat().st_size < 0.7 * (tmp_path / "full" / CHECKPOINT_NAME).stat().st_size
    assert run(data_dir, tmp_path / "compact", "--steps", "5", "--resume") == 0
    resumed = load_training_state(compact)
    assert resumed["step"] == 5 and resumed["generator"]["trunk.0.weight"].dtype == torch.float32


def test_preset_sets_defaults_and_explicit_options_win():
    from lifter.train import PRESETS, parse_args

    cpu = parse_args(["--preset", "cpu"])
    assert cpu.width == PRESETS["cpu"]["width"] and cpu.dropout == PRESETS["cpu"]["dropout"]
    assert parse_args(["--preset", "cpu", "--width", "128"]).width == 128
    assert cpu.lambda_bone_ratio == 0  # the prior is the second stage's
    second = parse_args(["--preset", "cpu-prior", "--init-from", "runs/a/checkpoint.pt"])
    assert (second.width, second.lambda_bone_ratio, second.lr) == (256, 3.0, 5.5e-5)
    assert second.init_from == "runs/a/checkpoint.pt"
    paper = parse_args([])
    assert (paper.width, paper.lr, paper.dropout, paper.critic_steps, paper.elevation_deg) == (1024, 5.5e-5, 0.1, 1, 0)


def test_sigterm_saves_a_checkpoint(data_dir, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    cmd = [sys.executable, "-m", "lifter.train", "--data", str(data_dir), "--out", str(out), *TINY,
           "--steps", "100000", "--checkpoint-every", "100000", "--val-every", "100000"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not ((out / LOG_NAME).exists() and (out / LOG_NAME).read_text().count("\n") >= 2):
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "continue with --resume" in err.decode()
    state = load_training_state(out / CHECKPOINT_NAME)
    assert 4 <= state["step"] < 100000
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "--steps must be at least 1"),
    (["--supervised-fraction", "2"], "between 0 and 1"),
    (["--resume"], "not found"),
    (["--critic-steps", "0"], "--critic-steps must be at least 1"),
    (["--elevation", "120"], "--elevation must be between"),
    (["--init-from", "nowhere.pt"], "not found"),
    (["--ema-decay", "1"], "--ema-decay must be in [0, 1)"),
    (["--ema-decay", "-0.1"], "--ema-decay must be in [0, 1)"),
    (["--rotation", "elepose", "--elevation", "10"], "--elevation applies to --rotation camera"),
    (["--lambda-deformation", "1", "--n-angles", "1"], "--lambda-deformation needs the relifted views"),
    (["--lambda-deformation", "-1"], "--lambda-deformation must be at least 0"),
    (["--lambda-flow", "2"], "--lambda-flow weighs the --flow-prior's loss"),
    (["--flow-prior", "nowhere.safetensors"], "flow prior nowhere.safetensors (the --flow-prior) not found"),
    (["--flow-prior", "nowhere.safetensors", "--lambda-flow", "-1"], "--lambda-flow must be at least 0"),
])  # fmt: skip
def test_bad_options(data_dir, tmp_path, capsys, args, message):
    assert run(data_dir, tmp_path / "x", *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("source", ["gt", "sh"])
def test_validation_uses_training_subjects_only_and_frames_held_out_of_training(data_dir, source):
    """Choices made on the validation metric never see S9/S11: it is the 3D error on frames of
    S1/S5-S8 whose 2D is also left out of the training set."""
    from lifter.data import CAMERAS, TEST_SUBJECTS, TRAIN_SUBJECTS, data_root, load_h36m
    from lifter.train import TrainConfig, ValidationSet, training_poses

    cfg = TrainConfig(train_frame_step=50, val_frame_step=400, input_source=source)
    root = data_root(data_dir)
    validation = ValidationSet(root, cfg).poses
    assert set(validation.subject) == set(TRAIN_SUBJECTS) and not set(validation.subject) & set(TEST_SUBJECTS)
    assert len(set(validation.camera)) == 4 and (validation.frame % 400 == 0).all()
    training = training_poses(root, cfg)
    train_keys = set(zip(training.subject, training.sequence, training.camera, training.frame))
    val_keys = set(zip(validation.subject, validation.sequence, validation.camera, validation.frame))
    assert len(train_keys) == len(training) and not train_keys & val_keys
    # every 8th training frame (0, 400, ...) went to validation, the rest stayed
    everything = load_h36m(root, TRAIN_SUBJECTS, CAMERAS, 50, source)
    assert len(training) + len(validation) == len(everything)
    assert len(validation) > 0.1 * len(everything)


def test_no_option_chooses_validation_subjects():
    """There is no way to point the validation at other subjects (S9/S11) from the command line."""
    from lifter.train import build_parser

    options = [o for action in build_parser()._actions for o in action.option_strings]
    assert not [o for o in options if "subject" in o or "test" in o]
    assert "--val-frame-step" in options


def test_wild_2d_share_of_inputs_and_critic_samples(data_dir):
    """--wild-fraction 0.25 of 16: the last 4 rows come from the in-the-wild poses, only for the
    roles --wild-as names; without them sampling is Human3.6M's alone."""
    from lifter.data import data_root
    from lifter.train import TrainConfig, TrainingData

    if not (data_dir / "mpii2d").is_dir():
        pytest.skip("no mpii2d/ in SVMAC_DATA")

    def from_set(rows: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
        distances = torch.cdist(rows.flatten(1), pool.flatten(1), compute_mode="donot_use_mm_for_euclid_dist")
        return distances.min(1).values < 1e-6

    root = data_root(data_dir)
    data = TrainingData(root, TrainConfig(train_frame_step=50, val_frame_step=400, wild_2d=("mpii", "lspet"),
                                          wild_fraction=0.25, wild_as="inputs"), torch.device("cpu"))  # fmt: skip
    assert len(data.wild) == 19919 + 3605
    inputs = data.sample(16, "inputs")
    assert from_set(inputs[12:], data.wild).all() and from_set(inputs[:12], data.pose_2d).all()
    assert not from_set(inputs[:12], data.wild).any()
    assert from_set(data.sample(16, "critic"), data.pose_2d).all()
    critic_only = TrainingData(root, TrainConfig(train_frame_step=50, val_frame_step=400, wild_2d=("lspet",),
                                                 wild_fraction=0.25, wild_as="critic"), torch.device("cpu"))  # fmt: skip
    assert from_set(critic_only.sample(16, "critic")[12:], critic_only.wild).all()
    assert from_set(critic_only.sample(16, "inputs"), critic_only.pose_2d).all()


def test_wild_2d_trains_and_resumes_with_its_config(data_dir, tmp_path):
    if not (data_dir / "lspet2d").is_dir():
        pytest.skip("no lspet2d/ in SVMAC_DATA")
    assert run(data_dir, tmp_path, "--steps", "2", "--wild-2d", "mpii,lspet", "--wild-fraction", "0.5") == 0
    state = load_training_state(tmp_path / CHECKPOINT_NAME)
    assert (tuple(state["config"]["wild_2d"]), state["config"]["wild_fraction"]) == (("mpii", "lspet"), 0.5)
    assert run(data_dir, tmp_path, "--steps", "3", "--resume") == 0
    assert load_training_state(tmp_path / CHECKPOINT_NAME)["step"] == 3
    data = read_weights_metadata(tmp_path / WEIGHTS_NAME)["data"]
    assert "in-the-wild 2D mpii+lspet, 23524 poses, 0.5 of each batch of inputs and critic" in data


@pytest.mark.parametrize("args, message", [
    (["--wild-2d", "mpii,coco", "--wild-fraction", "0.2"], "unknown in-the-wild 2D source coco"),
    (["--wild-2d", "mpii"], "--wild-2d and --wild-fraction go together"),
    (["--wild-fraction", "0.3"], "--wild-2d and --wild-fraction go together"),
    (["--wild-2d", "mpii", "--wild-fraction", "1"], "--wild-fraction must be in [0, 1)"),
])  # fmt: skip
def test_bad_wild_options(data_dir, tmp_path, capsys, args, message):
    assert run(data_dir, tmp_path / "x", *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ---------------------------------------------------------------- lifter v2 options (issue 12)

SMALL_DATA = dict(batch_size=16, train_frame_step=50, val_frame_step=400)


def floating(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A float64 copy of the module's floating-point parameters and buffers."""
    return {n: t.detach().double().clone() for n, t in module.state_dict().items() if t.is_floating_point()}


def test_old_checkpoint_config_and_state_still_load():
    """A committed checkpoint written before the v2 options (no ema_decay, rotation, flow_prior,
    deformation or flow weights, no elevation head) still gives a config and loads into a Trainer."""
    from lifter.train import TrainConfig, Trainer

    state = load_training_state("weights/svmac_h36m_gt.resume.pt")
    assert "ema_decay" not in state["config"] and "elevation_head" not in state["config"]["model"]
    cfg = TrainConfig.from_dict(state["config"])
    assert (cfg.ema_decay, cfg.rotation, cfg.model.elevation_head, cfg.weights.deformation) == (0.0, "camera", False, 0)
    assert cfg.flow_prior == ""
    trainer = Trainer(cfg, torch.device("cpu"))
    trainer.load_state_dict(state)
    assert trainer.step == state["step"] and "generator_ema" not in trainer.state_dict()


def test_ema_is_the_hand_computed_average_of_weights_and_batch_norm_buffers(data_dir):
    """EMA_0 = the starting generator, EMA_t = d EMA_{t-1} + (1 - d) W_t after every generator step,
    for every parameter and BatchNorm running statistic; the raw generator moves on its own."""
    from lifter.data import data_root
    from lifter.model import ModelConfig
    from lifter.train import TrainConfig, Trainer, TrainingData

    torch.manual_seed(0)
    decay = 0.8
    cfg = TrainConfig(**SMALL_DATA, lr=1e-2, ema_decay=decay, model=ModelConfig(width=16, dropout=0.0))
    data = TrainingData(data_root(data_dir), cfg, torch.device("cpu"))
    trainer = Trainer(cfg, torch.device("cpu"))
    expected = floating(trainer.generator)
    for _ in range(3):
        trainer.train_step(data)
        for name, value in floating(trainer.generator).items():
            expected[name] = decay * expected[name] + (1 - decay) * value
    ema, raw = floating(trainer.ema.module), floating(trainer.generator)
    assert any("running_mean" in name for name in expected)
    for name, value in expected.items():
        torch.testing.assert_close(ema[name], value, rtol=1e-5, atol=1e-6, msg=name)
    assert max((ema[n] - raw[n]).abs().max().item() for n in raw) > 1e-3  # not just a copy of the generator
    assert trainer.exported_generator() is trainer.ema.module


def test_ema_logged_exported_and_resumed_exactly(data_dir, tmp_path):
    """--ema-decay: both validations in the log, generator.safetensors is the EMA generator, and
    3 steps + resume to 6 gives the same EMA as 6 steps at once."""
    ema = ["--ema-decay", "0.5", "--lr", "1e-2"]
    assert run(data_dir, tmp_path / "straight", "--steps", "6", *ema) == 0
    assert run(data_dir, tmp_path / "split", "--steps", "3", *ema) == 0
    assert run(data_dir, tmp_path / "split", "--steps", "6", "--resume") == 0
    records = [json.loads(line) for line in (tmp_path / "straight" / LOG_NAME).read_text().splitlines()]
    validated = [r for r in records if VAL_KEY in r]
    assert [r["step"] for r in validated] == [3, 6] and all(VAL_EMA_KEY in r for r in validated)
    assert validated[-1][VAL_EMA_KEY] != validated[-1][VAL_KEY]
    a = load_training_state(tmp_path / "straight" / CHECKPOINT_NAME)
    b = load_training_state(tmp_path / "split" / CHECKPOINT_NAME)
    assert int(a["generator_ema"]["n_averaged"]) == 7  # the start and 6 steps
    for name, tensor in a["generator_ema"].items():
        torch.testing.assert_close(tensor, b["generator_ema"][name], rtol=0, atol=0, msg=name)
    exported = load_generator(tmp_path / "straight" / WEIGHTS_NAME).state_dict()
    for name, tensor in exported.items():
        if tensor.is_floating_point():
            ema_value = a["generator_ema"][f"module.{name}"]
            torch.testing.assert_close(tensor, ema_value, rtol=2e-3, atol=1e-5, msg=name)  # fp16 export
    moved = max((a["generator_ema"][f"module.{n}"] - a["generator"][n]).abs().max().item()
                for n in exported if exported[n].is_floating_point())  # fmt: skip
    assert moved > 1e-2


def elepose_trainer(data_dir, **changes):
    from lifter.data import data_root
    from lifter.model import ModelConfig
    from lifter.train import TrainConfig, Trainer, TrainingData

    torch.manual_seed(0)
    cfg = TrainConfig(**SMALL_DATA, rotation="elepose", model=ModelConfig(width=16, dropout=0.0, elevation_head=True),
                      **changes)  # fmt: skip
    return Trainer(cfg, torch.device("cpu")), TrainingData(data_root(data_dir), cfg, torch.device("cpu"))


ONLY = dict(angle=0.0, camera=0.0, symmetry=0.0, consistency_3d=0.0, svmac=0.0)


@pytest.mark.parametrize("use_critic, weights, reaches", [
    (True, {}, True),  # the critic's score of the reprojections alone
    (False, {"svmac": 10.0}, True),
    (False, {"consistency_3d": 0.1}, True),
    (False, {"symmetry": 1.0}, False),  # a term on the unrotated pose alone: no path to the head
])  # fmt: skip
def test_elevation_head_learns_through_the_losses_on_the_rotated_views(data_dir, use_critic, weights, reaches):
    from lifter.losses import LossWeights

    trainer, data = elepose_trainer(data_dir, use_critic=use_critic, weights=LossWeights(**{**ONLY, **weights}))
    trainer.train_step(data)
    grad = trainer.generator.elevation_head[-1].weight.grad
    assert (grad is not None and grad.abs().sum().item() > 0) == reaches


def test_elepose_levels_each_pose_by_its_predicted_elevation(data_dir):
    """The rotation of every view is Rx(-predicted) Ry(azimuth) Rx(new) (row vectors): undoing it
    leaves a rotation about y alone after the predicted tilt, and the new elevations are spread
    like the batch's predicted ones."""
    trainer, data = elepose_trainer(data_dir, n_angles=3)
    torch.nn.init.normal_(trainer.generator.elevation_head[-1].weight, 0.0, 0.5)  # away from 0
    with torch.no_grad():
        lifted = trainer.lift_and_reproject(data.sample(16))
    predicted = lifted.elevation.repeat(2)  # (V*B,)
    assert predicted.std() > 0.05
    torch.testing.assert_close(lifted.rotated, lifted.pose_3d.repeat(2, 1, 1) @ lifted.rotation)
    from lifter.geometry import rotation_x

    turned = rotation_x(predicted) @ lifted.rotation  # Ry(azimuth) Rx(new)
    new = torch.atan2(turned[:, 1, 2], turned[:, 1, 1]).neg()  # the tilt left in the y row: (0, cos, -sin)
    torch.testing.assert_close(turned[:, 1], torch.stack([torch.zeros_like(new), new.cos(), -new.sin()], -1))
    assert abs(new.mean() - predicted.mean()) < 3 * predicted.std() / 32**0.5 + 1e-6


def test_elepose_trains_exports_and_resumes_exactly(data_dir, tmp_path):
    # the preset's elevation gives way; a constant rate, so the shorter first half has the same schedule
    opts = ["--preset", "cpu", "--rotation", "elepose", "--lr", "1e-3", "--lr-final-ratio", "1"]
    assert run(data_dir, tmp_path / "straight", "--steps", "4", *opts) == 0
    assert run(data_dir, tmp_path / "split", "--steps", "2", *opts) == 0
    assert run(data_dir, tmp_path / "split", "--steps", "4", "--resume") == 0
    a = load_training_state(tmp_path / "straight" / CHECKPOINT_NAME)
    b = load_training_state(tmp_path / "split" / CHECKPOINT_NAME)
    assert a["config"]["rotation"] == "elepose" and a["config"]["model"]["elevation_head"]
    assert a["config"]["elevation_deg"] == 0 and a["config"]["critic_steps"] == 3
    assert a["generator"]["elevation_head.3.weight"].abs().sum() > 0  # learned away from its zero start
    for name, tensor in a["generator"].items():
        torch.testing.assert_close(tensor, b["generator"][name], rtol=0, atol=0, msg=name)
    record = json.loads((tmp_path / "straight" / LOG_NAME).read_text().splitlines()[-1])
    assert math.isfinite(record["elevation_std_deg"]) and VAL_KEY in record
    generator = load_generator(tmp_path / "straight" / WEIGHTS_NAME)
    assert generator.cfg.elevation_head and len(generator(torch.rand(2, 17, 2))) == 3


@pytest.mark.parametrize("levelling", [False, True])
def test_rotated_back_undoes_the_rotation_and_the_renormalisation(levelling):
    """An exact cycle: relifted = the rotated pose at another scale (its reprojection was
    renormalised); rotated back at the rotated pose's scale it is the lifted pose again."""
    from lifter.geometry import view_rotation
    from lifter.train import rotated_back

    gen = torch.Generator().manual_seed(3)
    pose = torch.randn(4, 17, 3, generator=gen, dtype=torch.float64)
    pose = pose - pose[:, :1]
    angles = [torch.rand(8, generator=gen, dtype=torch.float64) * 2 - 1 for _ in range(3)]
    rotation = view_rotation(angles[0] * math.pi, angles[1], angles[2] if levelling else None)  # V = 2 views
    rotated = (pose.repeat(2, 1, 1) @ rotation).view(2, 4, 17, 3)
    relifted = rotated * torch.tensor([2.5, 0.4], dtype=torch.float64)[:, None, None, None]
    torch.testing.assert_close(rotated_back(relifted, rotated, rotation), pose.expand(2, 4, 17, 3))


def test_deformation_loss_trains(data_dir, tmp_path):
    assert run(data_dir, tmp_path, "--steps", "2", "--n-angles", "3", "--lambda-deformation", "0.5") == 0
    records = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert 0 < records[-1]["deformation"] < 100
    assert load_training_state(tmp_path / CHECKPOINT_NAME)["config"]["weights"]["deformation"] == 0.5


@pytest.fixture(scope="module")
def flow_file(data_dir, tmp_path_factory):
    """A small real flow prior, fitted for a few steps by lifter.flow_prior's own command."""
    from lifter import flow_prior

    path = tmp_path_factory.mktemp("flow") / "flow.safetensors"
    assert flow_prior.main(["--data", str(data_dir), "--out", str(path), "--steps", "20", "--frame-step", "50",
                            "--eval-every", "10", "--hidden", "16", "16", "--transforms", "1",
                            "--batch-size", "256"]) == 0  # fmt: skip
    return path


def test_flow_prior_replaces_the_critic_and_resumes_from_its_saved_path(data_dir, flow_file, tmp_path, capsys):
    """--flow-prior with --no-critic: the flow's NLL is logged and trains the generator, the critic
    never steps; the path is in the saved config, a resume continues exactly and fails clearly
    once the file is gone."""
    flow = tmp_path / "flow.safetensors"
    flow.write_bytes(flow_file.read_bytes())
    opts = ["--flow-prior", str(flow), "--no-critic", "--lambda-flow", "0.5", "--lr", "1e-3"]
    assert run(data_dir, tmp_path / "straight", "--steps", "4", *opts) == 0
    assert run(data_dir, tmp_path / "split", "--steps", "2", *opts) == 0
    assert run(data_dir, tmp_path / "split", "--steps", "4", "--resume") == 0
    a = load_training_state(tmp_path / "straight" / CHECKPOINT_NAME)
    b = load_training_state(tmp_path / "split" / CHECKPOINT_NAME)
    assert (a["config"]["flow_prior"], a["config"]["weights"]["flow"], a["config"]["use_critic"]) == (
        str(flow),
        0.5,
        False,
    )
    for name, tensor in a["generator"].items():
        torch.testing.assert_close(tensor, b["generator"][name], rtol=0, atol=0, msg=name)
    assert a["opt_d"]["state"] == {}  # no critic step at all: the compute the flow saves
    records = [json.loads(line) for line in (tmp_path / "straight" / LOG_NAME).read_text().splitlines()]
    assert all(math.isfinite(r["flow"]) and "critic" not in r for r in records if "flow" in r)
    assert f"2D flow prior {flow}" in read_weights_metadata(tmp_path / "straight" / WEIGHTS_NAME)["data"]
    flow.unlink()
    capsys.readouterr()
    assert run(data_dir, tmp_path / "split", "--steps", "5", "--resume") == 2
    err = capsys.readouterr().err
    assert f"flow prior {flow} ({tmp_path / 'split' / CHECKPOINT_NAME}'s --flow-prior) not found" in err
    assert "Traceback" not in err


def test_flow_prior_joins_the_critic_and_teaches_the_elevation_head(data_dir, flow_file, tmp_path):
    from lifter.losses import LossWeights

    assert run(data_dir, tmp_path, "--steps", "2", "--flow-prior", str(flow_file)) == 0
    record = json.loads((tmp_path / LOG_NAME).read_text().splitlines()[-1])
    assert math.isfinite(record["flow"]) and math.isfinite(record["critic"])
    # the flow's NLL of the rotated reprojections alone reaches the elevation head
    trainer, data = elepose_trainer(data_dir, use_critic=False, flow_prior=str(flow_file), weights=LossWeights(**ONLY))
    trainer.train_step(data)
    assert trainer.generator.elevation_head[-1].weight.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in trainer.flow.parameters())  # frozen


def test_all_v2_options_together(data_dir, flow_file, tmp_path):
    opts = ["--ema-decay", "0.9", "--rotation", "elepose", "--lambda-deformation", "1", "--n-angles", "3",
            "--flow-prior", str(flow_file), "--no-critic"]  # fmt: skip
    assert run(data_dir, tmp_path, "--steps", "2", *opts) == 0
    assert run(data_dir, tmp_path, "--steps", "3", "--resume") == 0
    record = json.loads((tmp_path / LOG_NAME).read_text().splitlines()[-1])
    assert record["step"] == 3
    for key in ("flow", "deformation", "elevation_std_deg", VAL_KEY, VAL_EMA_KEY):
        assert math.isfinite(record[key]), key
    assert load_generator(tmp_path / WEIGHTS_NAME).cfg.elevation_head


def test_read_train_log_chains_both_clocks_across_resumes(tmp_path):
    # a run stopped after 20 s (12 s of CPU) and resumed: the second process restarts both clocks
    log = tmp_path / "train_log.jsonl"
    lines = [
        {"step": 50, "elapsed_s": 10.0, "cpu_s": 6.0},
        {"step": 100, "elapsed_s": 20.0, "cpu_s": 12.0},
        {"step": 150, "elapsed_s": 4.0, "cpu_s": 3.0},
        {"step": 200, "elapsed_s": 9.0},  # a record without cpu_s (logs from before it) keeps none
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    records = read_train_log(log)
    assert [r["elapsed_s"] for r in records] == [10.0, 20.0, 24.0, 29.0]
    assert [r.get("cpu_s") for r in records] == [6.0, 12.0, 15.0, None]


def test_chain_train_logs_counts_each_run_from_the_first_ones_start(tmp_path):
    # stage 1 ran to step 300 but stage 2 started from its step-200 checkpoint; stage 3 from stage 2's end
    def write(name: str, lines: list[dict]) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return path

    stage1 = write("s1.jsonl", [{"step": s, "elapsed_s": s / 10, "cpu_s": s / 20} for s in (100, 200, 300)])
    stage2 = write("s2.jsonl", [{"step": 50, "elapsed_s": 7.0, "cpu_s": 5.0}, {"step": 100, "elapsed_s": 14.0}])
    stage3 = write("s3.jsonl", [{"step": 10, "elapsed_s": 1.0, "cpu_s": 0.5}])
    first, second, third = chain_train_logs([(stage1, 200), (stage2, None), (stage3, None)])
    assert [r["step"] for r in first] == [100, 200]
    assert [(r["elapsed_s"], r.get("cpu_s")) for r in first] == [(10.0, 5.0), (20.0, 10.0)]
    assert [(r["elapsed_s"], r.get("cpu_s")) for r in second] == [(27.0, 15.0), (34.0, None)]
    # stage 2's last record has no cpu_s: its CPU time is not known, so none is added for it
    assert [(r["elapsed_s"], r["cpu_s"]) for r in third] == [(35.0, 10.5)]
