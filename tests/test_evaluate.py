"""svmac-eval on real data with a small generator: tables, JSON, predictions file, errors."""

import json

import numpy as np
import pytest

from lifter.checkpoint import export_weights
from lifter.data import data_root, load_h36m
from lifter.evaluate import main
from lifter.metrics import p_mpjpe
from lifter.model import Generator, ModelConfig

SMALL = ["--subjects", "S9", "--actions", "Walking", "Greeting"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "g.safetensors"
    export_weights(path, Generator(ModelConfig(width=16)), {})
    return path


def test_json_table_and_predictions(data_dir, weights, tmp_path, capsys):
    out_json, out_npz = tmp_path / "r.json", tmp_path / "p.npz"
    code = main(["--weights", str(weights), "--data", str(data_dir), "--input", "gt", "--protocol", "released",
                 "--json", str(out_json), "--save-predictions", str(out_npz), *SMALL])  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    assert "| gt | released |" in out
    assert "**P-MPJPE, reflection allowed (mm; ElePose-style, not the headline)**" in out
    assert out.index("**P-MPJPE (mm)**") < out.index("reflection allowed")  # the standard one comes first
    assert "(reflection allowed: " in err
    result = json.loads(out_json.read_text())["results"][0]
    assert set(result["per_action"]) == {"Walking", "Greeting"}
    saved = np.load(out_npz)
    assert saved["pred_mm"].shape == (len(saved["frame"]), 17, 3)
    assert set(saved["camera"]) == {"54138969"} and (saved["frame"] % 5 == 0).all()
    # Anyone can recompute the metric from the predictions file and the data.
    poses = load_h36m(data_root(data_dir), ("S9",), ("54138969",), 5, actions=("Walking", "Greeting"))
    gt = poses.pose_3d - poses.pose_3d[:, :1]
    assert (poses.frame == saved["frame"]).all() and (poses.sequence == saved["sequence"]).all()
    assert p_mpjpe(saved["pred_mm"].astype(np.float64), gt).mean() == pytest.approx(
        result["all_poses"]["p_mpjpe"], rel=1e-3
    )
    # The untrained network is no better than the flat pose.
    assert result["flat_pose_p_mpjpe"] < 150
    # The reflection-allowed P-MPJPE is reported beside the standard one, recomputable the same way.
    assert p_mpjpe(saved["pred_mm"].astype(np.float64), gt, allow_reflection=True).mean() == pytest.approx(
        result["all_poses"]["p_mpjpe_reflection"], rel=1e-3
    )


def test_both_inputs_and_protocols(data_dir, weights, capsys):
    assert main(["--weights", str(weights), "--data", str(data_dir), "--subjects", "S11", "--actions", "Sitting"]) == 0
    out = capsys.readouterr().out
    for row in ("| gt | standard |", "| gt | released |", "| sh | standard |", "| sh | released |"):
        assert row in out


def test_flip_average_is_labelled(data_dir, weights, tmp_path, capsys):
    out_json = tmp_path / "r.json"
    assert main(["--weights", str(weights), "--data", str(data_dir), "--input", "gt", "--protocol", "released",
                 "--flip-average", "--json", str(out_json), *SMALL]) == 0  # fmt: skip
    assert "| gt + flip | released |" in capsys.readouterr().out
    assert json.loads(out_json.read_text())["results"][0]["flip_average"] is True


@pytest.mark.parametrize("extra, message", [
    (["--subjects", "S42"], "unknown subject S42"),
    (["--actions", "Juggling"], "unknown action Juggling"),
    (["--save-predictions", "x.npz"], "exactly one --input"),
])  # fmt: skip
def test_user_errors(data_dir, weights, capsys, extra, message):
    assert main(["--weights", str(weights), "--data", str(data_dir), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_corrupt_weights(data_dir, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 64)
    assert main(["--weights", str(bad), "--data", str(data_dir)]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_existing_output_is_kept(data_dir, weights, tmp_path, capsys):
    out_json = tmp_path / "r.json"
    out_json.write_text("keep")
    assert main(["--weights", str(weights), "--data", str(data_dir), "--json", str(out_json), *SMALL]) == 2
    assert out_json.read_text() == "keep"


def test_validation_protocol_reproduces_svmac_trains_validation_metric(data_dir, weights, tmp_path):
    """`svmac-eval --subjects S1 S5 S6 S7 S8 --protocol validation` scores exactly the poses
    svmac-train validates on, so a logged validation number can be recomputed from the weights."""
    from lifter.checkpoint import load_generator
    from lifter.data import TRAIN_SUBJECTS
    from lifter.train import TrainConfig, ValidationSet

    out_json = tmp_path / "v.json"
    assert main(["--weights", str(weights), "--data", str(data_dir), "--input", "gt", "--protocol", "validation",
                 "--subjects", *TRAIN_SUBJECTS, "--json", str(out_json)]) == 0  # fmt: skip
    result = json.loads(out_json.read_text())["results"][0]
    validation = ValidationSet(data_root(data_dir), TrainConfig())
    assert result["all_poses"]["poses"] == len(validation.poses)
    assert result["all_poses"]["p_mpjpe"] == pytest.approx(validation.p_mpjpe(load_generator(weights)), rel=1e-6)


def test_default_protocols_are_the_test_ones(data_dir, weights, capsys):
    assert main(["--weights", str(weights), "--data", str(data_dir), "--input", "gt", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "| gt | standard |" in out and "| gt | released |" in out and "validation" not in out
