"""svmac-figure on real photos: the paper's Figure 4 layout (with ground truth) and Figures 5-6 (without)."""

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("mediapipe")

from app.figure import main, read_ground_truth_3d  # noqa: E402
from lifter.errors import SvmacError  # noqa: E402


def written(prefix) -> None:
    png, pdf = prefix.with_suffix(".png"), prefix.with_suffix(".pdf")
    assert Image.open(png).size[0] > 500
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_in_the_wild_figure(packaged_photo, tmp_path, capsys):
    prefix = tmp_path / "wild"
    assert main([str(packaged_photo), str(packaged_photo), "--out", str(prefix)]) == 0
    written(prefix)
    assert "2 rows" in capsys.readouterr().out
    assert main([str(packaged_photo), "--out", str(prefix)]) == 2  # kept without --overwrite
    assert "--overwrite" in capsys.readouterr().err


def test_h36m_figure_with_ground_truth(data_dir, tmp_path, capsys):
    root = data_dir / "fixtures" / "h36m"
    frames = sorted(root.rglob("*.jpg"))
    prefix = tmp_path / "h36m"
    assert main([*map(str, frames), "--ground-truth-3d", str(root / "test_h36m_body3d.npz"), "--out", str(prefix)]) == 0
    written(prefix)
    out = capsys.readouterr().out
    error = float(out.split("P-MPJPE over the 4 rows with ground truth: ")[1].split()[0])
    assert 20 < error < 200  # a real lifter on real frames: neither perfect nor a flat guess


def test_ground_truth_file_is_read_in_millimetres(data_dir):
    truth = read_ground_truth_3d(data_dir / "fixtures" / "h36m" / "test_h36m_body3d.npz")
    assert len(truth) == 4
    pose = next(iter(truth.values()))
    thigh = np.linalg.norm(pose[1] - pose[2])
    assert 300 < thigh < 600


def test_ground_truth_file_errors(tmp_path):
    np.savez(tmp_path / "bad.npz", imgname=np.array(["a.jpg"]), S=np.zeros((1, 16, 4)))
    with pytest.raises(SvmacError, match="must be"):
        read_ground_truth_3d(tmp_path / "bad.npz")
    with pytest.raises(SvmacError, match="not a ground-truth npz"):
        read_ground_truth_3d(tmp_path / "absent.npz")
