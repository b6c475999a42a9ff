"""Generator and critic: shapes, the perspective-lifting contract, parameter counts, camera prior."""

import pytest
import torch
from torch.testing import assert_close

from lifter.geometry import CAMERA_DISTANCE, normalise_2d
from lifter.model import Critic, Generator, ModelConfig, PartGenerator, build_generator, count_parameters
from lifter.skeleton import LEG_JOINTS, UPPER_BODY_JOINTS

SMALL = ModelConfig(width=64)


def normalised_input(batch: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return normalise_2d(torch.rand(batch, 17, 2, generator=gen, dtype=dtype) * 1000)


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """One intra-op thread: on a small, busy machine BatchNorm's thread pool otherwise waits ~50 ms a call."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def default_generator() -> Generator:
    torch.manual_seed(0)
    return Generator(ModelConfig())


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_generator_output_shapes(mode):
    torch.manual_seed(0)
    gen = getattr(Generator(SMALL).double(), mode)()
    pose_3d, camera, depth = gen(normalised_input(5))
    assert pose_3d.shape == (5, 17, 3)
    assert camera.shape == (5, 2, 3)
    assert depth.shape == (5, 17)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_generator_root_fixed_and_projection_gives_back_input(mode):
    """Root joint exactly 0, depth[:, 0] exactly 0, Z_rel = depth, and the perspective projection
    (X / (Z_rel + c), Y / (Z_rel + c)) of the 3D pose is the normalised 2D input (catches a depth
    inserted at the wrong index or a missing lift)."""
    torch.manual_seed(1)
    gen = getattr(Generator(SMALL).double(), mode)()
    x = normalised_input(6, seed=2)
    pose_3d, _, depth = gen(x)
    assert torch.all(pose_3d[:, 0] == 0)
    assert torch.all(depth[:, 0] == 0)
    assert depth[:, 1:].abs().sum() > 0  # the other joints do get a predicted depth
    assert_close(pose_3d[..., 2], depth)
    projected = pose_3d[..., :2] / (pose_3d[..., 2:] + CAMERA_DISTANCE)
    assert_close(projected, x, rtol=1e-12, atol=1e-12)


def test_bfloat16_autocast_keeps_outputs_and_lifting_in_float32():
    """Under --amp only the networks' matrix products run in bfloat16: the outputs come back in
    float32 and Z = D + c is formed there, so the 3D pose still projects onto its input to float32
    precision (lifted in bfloat16, it would be off by about 1e-3 of the pose's 0.1 extent)."""
    torch.manual_seed(1)
    no_dropout = ModelConfig(width=64, dropout=0.0)
    generator, critic = Generator(no_dropout).train(), Critic(no_dropout)
    x = normalised_input(6, seed=2, dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        pose_3d, camera, depth = generator(x)
        scores = critic(x)
    assert {pose_3d.dtype, camera.dtype, depth.dtype, scores.dtype} == {torch.float32}
    projected = pose_3d[..., :2] / (pose_3d[..., 2:] + CAMERA_DISTANCE)
    assert_close(projected, x, rtol=1e-6, atol=1e-7)
    assert_close(pose_3d, generator(x)[0], rtol=0.05, atol=0.02)  # bfloat16's 3 digits, not another result


def test_critic_output_shape():
    torch.manual_seed(0)
    critic = Critic(SMALL).double()
    assert critic(normalised_input(7)).shape == (7,)


def test_default_parameter_counts():
    """Default ModelConfig: generator ~12.68 M, the paper's 2-block critic ~4.23 M parameters (within 1 %)."""
    torch.manual_seed(0)
    assert count_parameters(Generator(ModelConfig())) == pytest.approx(12.68e6, rel=0.01)
    assert count_parameters(Critic(ModelConfig())) == pytest.approx(4.23e6, rel=0.01)


def test_dropout_rate_does_not_rename_weights():
    """Weights trained without dropout load into a model built with it, and the other way round."""
    with_dropout = Generator(ModelConfig(width=32, dropout=0.1))
    without = Generator(ModelConfig(width=32, dropout=0.0))
    assert list(with_dropout.state_dict()) == list(without.state_dict())
    without.load_state_dict(with_dropout.state_dict())


def test_generator_without_dropout_is_deterministic_in_training_mode():
    torch.manual_seed(0)
    generator = Generator(ModelConfig(width=32, dropout=0.0)).double().train()
    x = normalised_input(8)
    assert_close(generator(x)[0], generator(x)[0], rtol=0, atol=0)


def test_camera_prior_is_front_orthographic_camera_at_scale_one_over_c(default_generator):
    expected = torch.eye(2, 3) / 10
    assert_close(default_generator.camera_prior, expected)


def test_camera_at_initialisation_close_to_prior_in_eval_mode(default_generator):
    """In eval mode (BatchNorm on its initial running statistics) the initial camera is eye(2,3)/10
    up to a small offset."""
    default_generator.eval()
    with torch.no_grad():
        _, camera, _ = default_generator(normalised_input(32, seed=3, dtype=torch.float32))
    offset = (camera - torch.eye(2, 3) / 10).abs()
    assert offset.max().item() < 0.02


def test_camera_at_initialisation_close_to_prior_in_training_mode(default_generator):
    """Training starts in train mode: the model's comment says the camera branch predicts an offset
    from the prior 'so training starts from a valid weak-perspective camera instead of a random one'.
    The offset should therefore be small next to the prior's 0.1 entries in train mode too."""
    default_generator.train()
    with torch.no_grad():
        _, camera, _ = default_generator(normalised_input(32, seed=3, dtype=torch.float32))
    offset = (camera - torch.eye(2, 3) / 10).abs()
    assert offset.mean().item() < 0.02, f"mean |offset| {offset.mean().item():.3f}, max {offset.max().item():.3f}"


def test_committed_weights_without_elevation_head_still_load():
    from lifter.checkpoint import load_generator

    generator = load_generator("weights/svmac_h36m_gt.safetensors")
    assert not generator.cfg.elevation_head and not hasattr(generator, "elevation_head")


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_elevation_head_adds_an_angle_and_leaves_the_pose_and_camera(mode):
    """forward_with_elevation: forward's outputs plus one angle per pose, 0 at initialisation (a zero
    last layer, like the camera branch); the head's weights are the only new ones."""
    torch.manual_seed(0)
    generator = getattr(Generator(ModelConfig(width=32, dropout=0.0, elevation_head=True)).double(), mode)()
    x = normalised_input(6, seed=4)
    pose_3d, camera, depth, elevation = generator.forward_with_elevation(x)
    for a, b in zip((pose_3d, camera, depth), generator(x)):
        assert_close(a, b, rtol=0, atol=0)
    assert elevation.shape == (6,) and torch.all(elevation == 0)
    plain = set(Generator(ModelConfig(width=32)).state_dict())
    extra = set(generator.state_dict()) - plain
    assert plain < set(generator.state_dict()) and extra and all(k.startswith("elevation_head.") for k in extra)


# --- the part-split generator (svmac-train --part-split) ----------------------------------------


def test_part_split_generator_lifts_each_part_from_its_own_2d_only():
    torch.manual_seed(0)
    generator = build_generator(ModelConfig(width=32, dropout=0.0, part_split=True)).eval()
    assert isinstance(generator, PartGenerator)
    assert sorted(set(LEG_JOINTS) | set(UPPER_BODY_JOINTS)) == list(range(17))
    assert set(LEG_JOINTS) & set(UPPER_BODY_JOINTS) == {0}  # the root only
    pose_2d = torch.randn(5, 17, 2)
    pose_3d, camera, depth = generator(pose_2d)
    assert pose_3d.shape == (5, 17, 3) and camera.shape == (5, 2, 3) and depth.shape == (5, 17)
    assert (depth[:, 0] == 0).all()
    legs, upper = list(LEG_JOINTS[1:]), list(UPPER_BODY_JOINTS[1:])
    moved_arms = pose_2d.clone()
    moved_arms[:, upper] += torch.randn(5, len(upper), 2)
    _, camera_2, depth_2 = generator(moved_arms)
    torch.testing.assert_close(depth_2[:, legs], depth[:, legs], rtol=0, atol=0)  # the legs never see the arms
    assert not torch.allclose(depth_2[:, upper], depth[:, upper])
    moved_legs = pose_2d.clone()
    moved_legs[:, legs] += torch.randn(5, len(legs), 2)
    _, camera_3, depth_3 = generator(moved_legs)
    torch.testing.assert_close(depth_3[:, upper], depth[:, upper], rtol=0, atol=0)  # nor the upper body the legs
    torch.testing.assert_close(camera_3, camera, rtol=0, atol=0)  # the camera comes from the upper body
    assert not torch.allclose(depth_3[:, legs], depth[:, legs])


def test_part_split_generator_has_no_elevation_head():
    with pytest.raises(ValueError, match="elevation head"):
        build_generator(ModelConfig(width=32, part_split=True, elevation_head=True))
