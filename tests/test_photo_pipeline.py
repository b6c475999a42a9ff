"""benchmarks/photo_pipeline.py on the real fixtures: the MPI-INF-3DHP -> Human3.6M-17 mapping of its
two held-out frames, and the scoring function. Skips without SVMAC_DATA."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lifter.joint_formats import MPI_INF_3DHP17_SHARED, MPI_INF_3DHP17_TO_H36M17, map_keypoints
from lifter.skeleton import JOINT_NAMES

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "photo_pipeline.py"
H36M = {name: i for i, name in enumerate(JOINT_NAMES)}


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("photo_pipeline", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def frames_3dhp(benchmark, data_dir):
    return benchmark.mpi_inf_3dhp_frames(data_dir)


def test_3dhp_table_is_the_mupots_mapping(data_dir):
    """The table maps MuPoTS's native 3DHP-17 joints exactly as the shared data's converter did
    (whose README checks joint identity and left/right), and shares the joints MuPoTS scores."""
    path = data_dir / "mupots" / "mupots_h36m17.npz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with np.load(path) as data:
        native, mapped = data["mupots17_annot3_cam_mm"][::50], data["pose_3d_cam_mm"][::50]  # (N, 17, 3)
        scored = data["joint_scored"]
        names = tuple(data["mupots_joint_names"])
    assert [n.lower().replace("_", "") for n in names] == [n.lower() for n in MPI_INF_3DHP17_TO_H36M17.source_names]
    ours, _ = map_keypoints(MPI_INF_3DHP17_TO_H36M17, native)
    np.testing.assert_allclose(ours, mapped, atol=0.01)
    assert tuple(np.array(JOINT_NAMES)[scored.astype(bool)]) == MPI_INF_3DHP17_SHARED


def test_3dhp_fixture_2d_is_the_projection_of_its_3d(data_dir, frames_3dhp):
    """Mapped true 2D = mapped 3D through the frame's intrinsics (cameras_test.npz), every joint,
    within 2.5 px (3DHP re-centres its 2D hips, up to 2.1 px here; its spine and the derived Head
    are 1.2 px off), most within a tenth of a pixel."""
    with np.load(data_dir / "fixtures" / "mpi_inf_3dhp" / "cameras_test.npz") as cameras:
        assert [f.path.name for f in frames_3dhp] == ["TS1_002001.jpg", "TS2_001850.jpg"]
        for frame in frames_3dhp:
            sequence = frame.path.name.split("_")[0]
            focal, centre = cameras[f"{sequence}/f"][:, 0], cameras[f"{sequence}/c"][:, 0]
            projected = frame.truth_mm[:, :2] / frame.truth_mm[:, 2:] * focal + centre  # (17, 2)
            off = np.linalg.norm(projected - frame.true_2d, axis=-1)
            assert off.max() < 2.5, frame.path.name
            assert np.median(off) < 0.2, frame.path.name


def test_3dhp_fixture_mapped_3d_is_anatomical(frames_3dhp):
    """Camera frame, y down: head over thorax over spine over hip over knees over ankles; the mapped
    left and right arms and shins have equal lengths (3DHP's skeleton makes them so)."""
    y = lambda frame, name: frame.truth_mm[H36M[name], 1]  # noqa: E731
    length = lambda frame, a, b: np.linalg.norm(frame.truth_mm[H36M[a]] - frame.truth_mm[H36M[b]])  # noqa: E731
    for f in frames_3dhp:
        assert y(f, "Head") < y(f, "Neck/Nose") < y(f, "Thorax") < y(f, "Spine") < y(f, "Hip"), f.path.name
        for side in "RL":
            assert y(f, "Hip") < y(f, f"{side}Knee") < y(f, f"{side}Foot"), f.path.name
        for a, b in (("Shoulder", "Elbow"), ("Elbow", "Wrist"), ("Knee", "Foot")):
            assert length(f, "R" + a, "R" + b) == pytest.approx(length(f, "L" + a, "L" + b), abs=1.0)
            assert 200.0 < length(f, "R" + a, "R" + b) < 500.0
    # The held-out frames are not H36M's four: every scored joint but these two.
    assert frames_3dhp[0].scored == tuple(i for i, n in enumerate(JOINT_NAMES) if n not in ("Neck/Nose", "Head"))


def test_scoring_is_zero_for_the_truth_and_ignores_similarity(benchmark, frames_3dhp, data_dir):
    rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    for frame in frames_3dhp + benchmark.h36m_frames(data_dir):
        assert benchmark.errors_mm(frame.truth_mm, frame) == pytest.approx({"all": 0.0, "limbs": 0.0}, abs=1e-6)
        moved = 0.7 * frame.truth_mm @ rotation.T + np.array([100.0, -50.0, 3000.0])
        assert benchmark.errors_mm(moved, frame) == pytest.approx({"all": 0.0, "limbs": 0.0}, abs=1e-6)
        bent = frame.truth_mm.copy()
        bent[H36M["RWrist"]] += [0.0, 0.0, 300.0]
        errors = benchmark.errors_mm(bent, frame)
        assert errors["limbs"] > errors["all"] > 5.0
    assert all(np.isnan(v) for v in benchmark.errors_mm(None, frames_3dhp[0]).values())


def test_scoring_leaves_out_the_unshared_3dhp_joints(benchmark, frames_3dhp):
    """3DHP's Neck/Nose and Head are approximations: moving them changes nothing."""
    frame = frames_3dhp[0]
    moved = frame.truth_mm.copy()
    moved[[H36M["Neck/Nose"], H36M["Head"]]] += 200.0
    assert benchmark.errors_mm(moved, frame) == pytest.approx({"all": 0.0, "limbs": 0.0}, abs=1e-6)
