"""Weights files: round trip, fp16 export, and clear errors for bad files."""

import json

import pytest
import torch
from safetensors.torch import save_file

from lifter.checkpoint import export_weights, load_generator, load_training_state, save_training_state
from lifter.errors import SvmacError
from lifter.model import Generator, ModelConfig


def test_round_trip_fp32(tmp_path):
    generator = Generator(ModelConfig(width=16)).eval()
    export_weights(tmp_path / "g.safetensors", generator, {"note": "test"}, half=False)
    loaded = load_generator(tmp_path / "g.safetensors")
    x = torch.randn(5, 17, 2) * 0.1
    torch.testing.assert_close(loaded(x)[0], generator(x)[0])


def test_fp16_export_is_close(tmp_path):
    generator = Generator(ModelConfig(width=16)).eval()
    export_weights(tmp_path / "g.safetensors", generator, {})
    x = torch.randn(5, 17, 2) * 0.1
    torch.testing.assert_close(load_generator(tmp_path / "g.safetensors")(x)[0], generator(x)[0], atol=2e-3, rtol=0)


def test_mismatched_architecture(tmp_path):
    generator = Generator(ModelConfig(width=16))
    tensors = {k: v.contiguous() for k, v in generator.state_dict().items()}
    meta = {"format": "svmac-generator-1", "model_config": json.dumps(ModelConfig(width=32).to_dict())}
    save_file(tensors, tmp_path / "g.safetensors", metadata=meta)
    with pytest.raises(SvmacError, match="does not match the generator architecture"):
        load_generator(tmp_path / "g.safetensors")


def test_corrupt_and_foreign_files(tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(SvmacError, match="not a readable safetensors"):
        load_generator(tmp_path / "junk.safetensors")
    save_file({"w": torch.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(SvmacError, match="not an svmac generator"):
        load_generator(tmp_path / "other.safetensors")
    with pytest.raises(SvmacError, match="not found"):
        load_generator(tmp_path / "missing.safetensors")
    (tmp_path / "junk.pt").write_bytes(b"garbage")
    with pytest.raises(SvmacError, match="not a readable svmac training state"):
        load_training_state(tmp_path / "junk.pt")


class Payload:
    """Stands for any pickled object that would run code on load."""


def test_training_state_refuses_pickled_code(tmp_path):
    """weights_only loading: a checkpoint holding an arbitrary object is rejected, not executed."""
    torch.save({"step": 1, "payload": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(SvmacError):
        load_training_state(tmp_path / "evil.pt")
    save_training_state(tmp_path / "ok.pt", {"step": 3, "t": torch.ones(2)})
    assert load_training_state(tmp_path / "ok.pt")["step"] == 3
