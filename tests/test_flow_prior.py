import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from lifter.checkpoint import read_weights_metadata
from lifter.data import load_h36m
from lifter.errors import SvmacError
from lifter.flow_prior import (
    FEATURES,
    FlowData,
    FlowPriorConfig,
    FlowTrainConfig,
    PoseFlow,
    features_of,
    fit_flow,
    flow_prior_loss,
    heldout_h36m,
    load_flow_prior,
    log_path,
    nll_per_coordinate,
    main,
    pose_features,
    save_flow_prior,
)
from lifter.geometry import normalise_2d

TINY = FlowPriorConfig(kind="maf", transforms=2, hidden_features=(32, 32))


def random_poses(count: int, seed: int = 0) -> torch.Tensor:
    """Normalised 2D poses (count, 17, 2) of random joints: shapes only, for the likelihood maths."""
    pose = torch.randn(count, 17, 2, generator=torch.Generator().manual_seed(seed))
    return normalise_2d(pose)


def identity_flow(kind: str, mean: torch.Tensor, std: torch.Tensor) -> PoseFlow:
    """A flow whose zuko steps are the identity: every step's conditioner outputs zeros, which
    zuko maps to unit scale and zero shift (MAF) or a straight-line spline (NSF)."""
    flow = PoseFlow(FlowPriorConfig(kind=kind, transforms=2, hidden_features=(16, 16)), mean, std)
    for step in flow.flow.transform.transforms:
        last = step.hyper[-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)
    return flow


@pytest.mark.parametrize("kind", ["maf", "nsf"])
def test_identity_flow_is_the_standardised_gaussian(kind):
    generator = torch.Generator().manual_seed(1)
    mean = 0.05 * torch.randn(FEATURES, generator=generator)
    std = 0.02 + 0.05 * torch.rand(FEATURES, generator=generator)
    flow = identity_flow(kind, mean, std)
    pose = random_poses(5).double()
    x = pose[:, 1:, :].reshape(5, FEATURES)  # the 16 non-root joints, x and y interleaved
    # the product of 32 independent normal densities N(mean_i, std_i^2), by hand
    expected = (
        -0.5 * ((x - mean.double()) / std.double()) ** 2 - std.double().log() - 0.5 * math.log(2 * math.pi)
    ).sum(-1)
    assert torch.allclose(flow.log_prob(pose.float()).double(), expected, rtol=1e-5, atol=1e-4)


def test_log_prob_gradient_reaches_the_pose():
    mean, std = torch.zeros(FEATURES), torch.full((FEATURES,), 0.05)
    flow = identity_flow("maf", mean, std)
    pose = random_poses(3).requires_grad_(True)
    flow.log_prob(pose).sum().backward()
    # d/dx of sum -x^2 / (2 std^2) is -x / std^2 for the 16 joints; the root moves them all
    joints = -pose.detach()[:, 1:] / 0.05**2
    assert torch.allclose(pose.grad[:, 1:], joints, rtol=1e-4, atol=1e-3)
    assert torch.allclose(pose.grad[:, 0], -joints.sum(1), rtol=1e-4, atol=1e-2)


def test_root_is_dropped_and_an_offset_root_centred():
    pose = random_poses(4)
    features = pose_features(pose)
    assert features.shape == (4, FEATURES)
    assert torch.equal(features[:, :2], pose[:, 1])  # the first feature pair is joint 1 (RHip)
    assert torch.equal(features[:, -2:], pose[:, 16])
    flow = PoseFlow(TINY).eval()
    shifted = pose + torch.tensor([0.3, -0.2])  # root no longer at 0: scored as its root-centred pose
    assert torch.allclose(flow.log_prob(shifted), flow.log_prob(pose), atol=1e-4)


def test_loss_is_mean_nll_per_coordinate_and_trains_nothing_after_load(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "flow.safetensors"
    save_flow_prior(path, PoseFlow(TINY, torch.zeros(FEATURES), torch.full((FEATURES,), 0.05)), {"note": "test"})
    flow = load_flow_prior(path)
    assert not flow.training and not any(p.requires_grad for p in flow.parameters())
    pose = random_poses(6).requires_grad_(True)
    loss = flow_prior_loss(flow, pose)
    assert torch.allclose(loss, -flow.log_prob(pose).mean() / 32)
    loss.backward()
    assert pose.grad is not None and pose.grad.abs().sum() > 0
    assert all(p.grad is None for p in flow.parameters())


def test_save_load_round_trip_gives_identical_log_prob(tmp_path):
    torch.manual_seed(3)
    flow = PoseFlow(FlowPriorConfig(kind="maf", transforms=3, hidden_features=(24, 24)),
                    0.01 * torch.randn(FEATURES), 0.03 + 0.02 * torch.rand(FEATURES)).eval()  # fmt: skip
    path = tmp_path / "flow.safetensors"
    save_flow_prior(path, flow, {"training": json.dumps({"steps": 1})})
    loaded = load_flow_prior(path)
    assert loaded.cfg == flow.cfg
    pose = random_poses(8)
    assert torch.equal(loaded.log_prob(pose), flow.log_prob(pose).detach())


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(SvmacError, match="not found"):
        load_flow_prior(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not a safetensors file at all")
    with pytest.raises(SvmacError, match="not a readable safetensors"):
        load_flow_prior(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(2)}, str(foreign), metadata={"format": "svmac-generator-1"})
    with pytest.raises(SvmacError, match="not an svmac pose-flow file"):
        load_flow_prior(foreign)
    # tensors of a wider flow under a narrower flow's config
    mismatched = tmp_path / "mismatched.safetensors"
    save_flow_prior(mismatched, PoseFlow(FlowPriorConfig(kind="maf", transforms=2, hidden_features=(48, 48))), {})
    wide = mismatched.read_bytes()
    narrow_config = json.dumps({"kind": "maf", "transforms": 2, "hidden_features": [32, 32], "bins": 8})
    from safetensors.torch import load_file

    save_file(
        load_file(str(mismatched)),
        str(mismatched),
        metadata={"format": "svmac-pose-flow-1", "flow_config": narrow_config},
    )
    assert mismatched.read_bytes() != wide
    with pytest.raises(SvmacError, match="does not match its flow_config"):
        load_flow_prior(mismatched)
    unknown_kind = tmp_path / "unknown_kind.safetensors"
    glow = {"kind": "glow", "transforms": 2, "hidden_features": [16], "bins": 8}
    save_file({"mean": torch.zeros(32)}, str(unknown_kind),
              metadata={"format": "svmac-pose-flow-1", "flow_config": json.dumps(glow)})  # fmt: skip
    with pytest.raises(SvmacError, match="unusable flow_config.*unknown flow kind 'glow'"):
        load_flow_prior(unknown_kind)


def test_log_prob_stays_float32_under_autocast():
    torch.manual_seed(0)
    flow = PoseFlow(TINY, torch.zeros(FEATURES), torch.full((FEATURES,), 0.05)).eval()
    pose = random_poses(16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = flow.log_prob(pose)
    assert under_autocast.dtype == torch.float32
    assert torch.equal(under_autocast, flow.log_prob(pose))


# ---- on real data ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def walking(data_dir):
    """S1's and S5's walking, one camera, every 5th frame: a small real slice."""
    poses = load_h36m(data_dir, ("S1", "S5"), ("54138969",), 5, actions=("Walking",))
    return {subject: poses.select(poses.subject == subject) for subject in ("S1", "S5")}


def test_trained_flow_prefers_real_poses_to_joint_shuffled_ones(walking):
    data = FlowData(features_of(walking["S1"].pose_2d, mirror=True), features_of(walking["S5"].pose_2d[::4], False))
    cfg = FlowTrainConfig(steps=120, batch_size=128, lr=3e-3, eval_every=40, seed=0)
    flow, records = fit_flow(TINY, data, cfg, log=lambda line: None)
    assert [r["step"] for r in records] == [40, 80, 120]
    # the flow returned is the evaluation with the lowest held-out NLL
    best = min(r["heldout_h36m_nll"] for r in records)
    assert nll_per_coordinate(flow, data.heldout) == pytest.approx(best, abs=1e-5)
    real = normalise_2d(torch.from_numpy(walking["S5"].pose_2d[1::4]))  # another subject's poses
    order = torch.stack([torch.randperm(16, generator=torch.Generator().manual_seed(i)) + 1 for i in range(len(real))])
    shuffled = real.clone()
    shuffled[:, 1:] = torch.gather(real[:, 1:], 1, (order - 1)[..., None].expand(-1, -1, 2))  # joints swapped around
    real_ll, shuffled_ll = flow.log_prob(real), flow.log_prob(shuffled)
    # per coordinate, real poses are far more likely, and nearly every single one beats its shuffle
    assert (real_ll - shuffled_ll).mean() / FEATURES > 1.0
    assert (real_ll > shuffled_ll).float().mean() > 0.95


def test_heldout_is_the_last_tenth_of_each_sequence(walking):
    poses = walking["S1"]
    held = heldout_h36m(poses)
    for sequence in np.unique(poses.sequence):
        frames = poses.frame[poses.sequence == sequence]
        in_sequence = held[poses.sequence == sequence]
        assert 0.07 < in_sequence.mean() < 0.13
        assert frames[in_sequence].min() > frames[~in_sequence].max()  # one stretch at the end


def test_command_line_trains_writes_and_refuses_to_overwrite(data_dir, tmp_path, capsys):
    out = tmp_path / "flow.safetensors"
    args = ["--data", str(data_dir), "--out", str(out), "--steps", "20", "--eval-every", "10", "--frame-step", "50",
            "--transforms", "1", "--hidden", "16", "--batch-size", "64"]  # fmt: skip
    assert main(args) == 0
    records = [json.loads(line) for line in log_path(out).read_text().splitlines()]
    assert [r["step"] for r in records] == [10, 20] and all(math.isfinite(r["heldout_h36m_nll"]) for r in records)
    flow = load_flow_prior(out)
    assert flow.cfg == FlowPriorConfig(kind="maf", transforms=1, hidden_features=(16,))
    metadata = read_weights_metadata(out)
    training, best = json.loads(metadata["training"]), json.loads(metadata["best"])
    assert training["steps"] == 20 and training["wild_2d"] == [] and training["h36m_heldout_poses"] > 0
    assert best == min(records, key=lambda r: r["heldout_h36m_nll"])
    assert "--steps 20" in metadata["command"]
    assert main(args) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--wild-2d", "nope"]) == 2
    assert "unknown in-the-wild 2D source" in capsys.readouterr().err
