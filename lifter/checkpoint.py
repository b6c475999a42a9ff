"""Checkpoints without pickled code.

- Training state (resume): a dict of tensors and plain values written with torch.save and read
  back with torch.load(weights_only=True).
- Released weights: the generator alone as safetensors, with its ModelConfig as JSON metadata.
- Committed resumable runs: a training state in bfloat16 (`python -m lifter.checkpoint compact`).
"""

import argparse
import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from lifter.errors import SvmacError, exit_on_user_error
from lifter.model import AnyGenerator, ModelConfig, build_generator

WEIGHTS_FORMAT = "svmac-generator-1"


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path) then rename over path, so readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: Path | None, overwrite: bool) -> None:
    """Refuse to replace an existing output unless the user asked for it."""
    if path is not None and path.exists() and not overwrite:
        raise SvmacError(f"{path} exists; pass --overwrite to replace it")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_report(out: Path, markdown: str, record: dict) -> None:
    """A benchmark's results: out.md for people, out.json for programs, and the markdown on stdout."""
    atomic_write_text(out.with_suffix(".md"), markdown)
    atomic_write_text(out.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    print(markdown)


def save_training_state(path: Path, state: dict) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_training_state(path: Path) -> dict:
    if not Path(path).is_file():
        raise SvmacError(f"checkpoint {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged or foreign file
        raise SvmacError(f"checkpoint {path} is not a readable svmac training state ({type(err).__name__})") from None


def compact_training_state(state):
    """A training state with every floating-point tensor (weights, Adam moments, BatchNorm
    statistics) in bfloat16, half the fp32 size, for committing a resumable run. Loading
    needs no conversion: modules copy into their fp32 parameters and Adam casts its state to the
    parameters' dtype. Adam's step counts stay exact. A run resumed from it continues from the
    rounded values, so it is close to, not bit-identical with, an uninterrupted run."""
    if isinstance(state, dict):
        return {key: state[key] if key == "step" else compact_training_state(state[key]) for key in state}
    if isinstance(state, list):
        return [compact_training_state(value) for value in state]
    if isinstance(state, torch.Tensor) and state.is_floating_point():
        return state.to(torch.bfloat16)
    return state


def export_weights(path: Path, generator: AnyGenerator, metadata: dict[str, str], half: bool = True) -> None:
    """Write the generator's weights (fp16 by default) and config as safetensors."""
    dtype = torch.float16 if half else torch.float32
    tensors = {
        name: (t.to(dtype) if t.is_floating_point() else t).detach().cpu().contiguous()
        for name, t in generator.state_dict().items()
    }
    meta = {"format": WEIGHTS_FORMAT, "model_config": json.dumps(generator.cfg.to_dict()), **metadata}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def read_weights_metadata(path: Path) -> dict[str, str]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise SvmacError(f"{path} is not a readable safetensors file ({err})") from None


def read_format_metadata(path: Path, file_format: str, missing: str, kind: str) -> dict[str, str]:
    """The metadata of an existing safetensors file written in file_format. The errors name the
    file as missing ("weights file") when it is absent, and as kind ("generator weights") when
    it holds another format."""
    if not path.is_file():
        raise SvmacError(f"{missing} {path} not found")
    metadata = read_weights_metadata(path)
    if metadata.get("format") != file_format:
        raise SvmacError(f"{path} is not an svmac {kind} file (format {metadata.get('format')!r})")
    return metadata


def load_generator(path: Path, device: str | torch.device = "cpu") -> AnyGenerator:
    """Build the generator described by a weights file and load it, in eval mode, in fp32."""
    path = Path(path)
    metadata = read_format_metadata(path, WEIGHTS_FORMAT, "weights file", "generator weights")
    try:
        cfg = ModelConfig(**json.loads(metadata["model_config"]))
    except (KeyError, TypeError, ValueError) as err:
        raise SvmacError(f"{path} has an unusable model_config ({err})") from None
    generator = build_generator(cfg)
    load_safetensors_into(path, generator, "the generator architecture")
    return generator.to(device).eval()


def load_safetensors_into(path: Path, module: torch.nn.Module, described_by: str) -> None:
    """Copy a safetensors file's tensors (floating ones as fp32) into module, with one-line errors."""
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise SvmacError(f"{path} is not a readable safetensors file ({err})") from None
    try:
        module.load_state_dict({name: t.float() if t.is_floating_point() else t for name, t in tensors.items()})
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
        raise SvmacError(f"{path} does not match {described_by}: {first}") from None


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    """python -m lifter.checkpoint compact SOURCE DEST: a bfloat16 copy of a training checkpoint."""
    p = argparse.ArgumentParser(prog="python -m lifter.checkpoint", description="Training-state utilities.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compact", help="write a bfloat16 copy of a training checkpoint, to commit a resumable run")
    c.add_argument("source", type=Path, help="a run's checkpoint.pt")
    c.add_argument("dest", type=Path)
    c.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)
    check_writable(args.dest, args.overwrite)
    save_training_state(args.dest, compact_training_state(load_training_state(args.source)))
    print(f"{args.dest}: {args.dest.stat().st_size / 1e6:.1f} MB (from {args.source.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
