"""The figure renderer: valid files written atomically, every person count, and a view that keeps left left."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from app import render
from app.render import GridRow, PersonDrawing, project_view, render_grid, render_pose_figure
from lifter.skeleton import LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS

GRACE_HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
H36M_FIXTURE = Path("fixtures/h36m/test_h36m_body3d.npz")

# A standing person facing the camera, metres, root-relative camera frame (x right, y down, z away):
# their left side is on the camera's right (+x), the nose is nearer the camera than the head centre.
STANDING_POSE = np.array(
    [
        [0.00, 0.00, 0.00],  # Hip
        [-0.13, 0.00, 0.00],  # RHip
        [-0.14, 0.45, 0.02],  # RKnee
        [-0.15, 0.88, 0.08],  # RFoot
        [0.13, 0.00, 0.00],  # LHip
        [0.15, 0.44, -0.03],  # LKnee
        [0.16, 0.87, 0.05],  # LFoot
        [0.00, -0.23, 0.02],  # Spine
        [0.00, -0.48, 0.03],  # Thorax
        [0.01, -0.58, -0.05],  # Neck/Nose
        [0.00, -0.68, 0.00],  # Head
        [0.17, -0.45, 0.03],  # LShoulder
        [0.27, -0.22, 0.05],  # LElbow
        [0.30, 0.02, -0.05],  # LWrist
        [-0.17, -0.45, 0.03],  # RShoulder
        [-0.30, -0.25, 0.00],  # RElbow
        [-0.38, -0.45, -0.15],  # RWrist
    ]
)


def _pinhole(pose: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """(17, 3) root-relative metres -> (17, 2) pixels, as a camera 4 m away with f = 1000 px would see it."""
    height, width = image_shape[:2]
    points = pose + np.array([0.0, 0.1, 4.0])
    return 1000.0 * points[:, :2] / points[:, 2:] + np.array([width / 2, height / 2])


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image (H, W, 3) uint8, keypoints (17, 2) px, pose (17, 3)): a real Human3.6M frame with its ground
    truth when SVMAC_DATA holds the fixtures, otherwise Grace Hopper with the hand-written standing pose."""
    root = os.environ.get("SVMAC_DATA")
    fixture = Path(root).expanduser() / H36M_FIXTURE if root else None
    if fixture is not None and fixture.is_file():
        data = np.load(fixture)
        image = np.asarray(Image.open(fixture.parent / str(data["imgname"][3])).convert("RGB"))
        pose = data["S"][3, :, :3] - data["S"][3, 0, :3]
        return image, data["part"][3, :, :2], pose
    image = np.asarray(Image.open(GRACE_HOPPER).convert("RGB"))
    return image, _pinhole(STANDING_POSE, image.shape), STANDING_POSE


def _person(sample, scores=None, shift_px=0.0) -> PersonDrawing:
    image, keypoints, pose = sample
    if scores is None:
        scores = np.full(NUM_JOINTS, 0.9)
    return PersonDrawing(keypoints + np.array([shift_px, 0.0]), scores, pose)


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# --- the view projection -------------------------------------------------------------------------------


@pytest.mark.parametrize("elevation", [0.0, 10.0])
def test_camera_view_keeps_left_right_and_head_up(elevation):
    uv, _ = project_view(STANDING_POSE, 0.0, elevation)
    # Facing the camera, the person's left joints have larger x and must be drawn further right.
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        assert uv[left, 0] > uv[right, 0]
    assert uv[10, 1] > uv[0, 1] > uv[3, 1]  # head above hip above foot (y down in the camera frame)
    np.testing.assert_allclose(project_view(np.array([[0.7, 0.0, 0.0]]), 0.0, elevation)[0], [[0.7, 0.0]], atol=1e-12)


def test_camera_view_at_zero_elevation_is_the_photo_layout():
    uv, depth = project_view(STANDING_POSE)
    np.testing.assert_allclose(uv, STANDING_POSE[:, :2] * [1.0, -1.0])
    np.testing.assert_allclose(depth, STANDING_POSE[:, 2])


def test_rotated_and_top_views_put_the_camera_where_the_titles_say():
    camera_side = np.array([[0.0, 0.0, -1.0]])  # a point between the pose and the photo's camera
    uv, depth = project_view(camera_side, 90.0, 0.0)
    assert uv[0, 0] < -0.99 and abs(depth[0]) < 1e-12  # side view: camera on the panel's left
    uv, _ = project_view(camera_side, -90.0, 0.0)
    assert uv[0, 0] > 0.99
    uv, depth = project_view(camera_side, 0.0, 90.0)
    assert uv[0, 1] < -0.99  # top view: camera at the bottom
    _, depth = project_view(np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]]), 0.0, 90.0)
    assert depth[0] > depth[1]  # seen from above, the floor is farther than the head
    assert render._view_title(90.0, 10.0).endswith("(camera left)")
    assert render._view_title(-90.0, 10.0).endswith("(camera right)")


@pytest.mark.parametrize(("azimuth", "elevation"), [(0.0, 0.0), (37.0, 10.0), (90.0, 25.0), (-120.0, 90.0)])
def test_project_view_is_a_rotation(azimuth, elevation):
    # Orthographic views must keep every length: the panels' equal scales rest on it.
    uv, depth = project_view(STANDING_POSE, azimuth, elevation)
    rotated = np.column_stack([uv, depth])
    np.testing.assert_allclose(np.linalg.norm(rotated, axis=1), np.linalg.norm(STANDING_POSE, axis=1), atol=1e-12)
    bones = np.array([[0, 3], [10, 16], [13, 6]])
    np.testing.assert_allclose(
        np.linalg.norm(rotated[bones[:, 0]] - rotated[bones[:, 1]], axis=1),
        np.linalg.norm(STANDING_POSE[bones[:, 0]] - STANDING_POSE[bones[:, 1]], axis=1),
        atol=1e-12,
    )


def test_camera_view_of_real_ground_truth_matches_its_2d(data_dir):
    # On real Human3.6M frames the camera-view panel must lay the joints out as the photo does:
    # a scale and offset map the projected 3D onto the measured 2D to within weak perspective.
    data = np.load(data_dir / H36M_FIXTURE)
    for part, pose in zip(data["part"][:, :, :2], data["S"][:, :, :3], strict=True):
        uv, _ = project_view(pose - pose[0])
        photo = part * [1.0, -1.0]  # pixels have y down, panels v up
        design = np.column_stack([uv.reshape(-1), np.tile([1.0, 0.0], NUM_JOINTS), np.tile([0.0, 1.0], NUM_JOINTS)])
        coef, *_ = np.linalg.lstsq(design, photo.reshape(-1), rcond=None)
        assert coef[0] > 0  # same orientation: no flip
        # RMS joint error is 0.6-2.4 % of the person's 2D extent (perspective, lens distortion); a mirrored
        # view would be 12-31 %.
        residual = (design @ coef - photo.reshape(-1)).reshape(NUM_JOINTS, 2)
        rms = np.sqrt((residual**2).sum(axis=1).mean())
        assert rms < 0.04 * np.ptp(part, axis=0).max()


# --- input checks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["keypoints_2d", "scores", "pose_3d"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(sample, field, bad):
    person = _person(sample)
    values = {f: getattr(person, f).copy() for f in ("keypoints_2d", "scores", "pose_3d")}
    values[field].flat[5] = bad
    with pytest.raises(ValueError, match=field):
        PersonDrawing(**values)


def test_wrong_shapes_are_rejected(sample):
    image, keypoints, pose = sample
    with pytest.raises(ValueError, match="pose_3d"):
        PersonDrawing(keypoints, np.ones(NUM_JOINTS), pose[:16])
    with pytest.raises(ValueError, match="keypoints_2d"):
        PersonDrawing(pose, np.ones(NUM_JOINTS), pose)
    with pytest.raises(ValueError, match="gt_3d"):
        GridRow(image, pose, gt_3d=np.full((NUM_JOINTS, 3), np.nan))
    with pytest.raises(ValueError, match="image"):
        render_pose_figure(np.zeros((4, 4, 2), np.uint8), [], Path("unused.png"))


def test_unsupported_format_writes_nothing(sample, tmp_path):
    with pytest.raises(ValueError, match="unsupported"):
        render_pose_figure(sample[0], [_person(sample)], tmp_path / "figure.gif")
    with pytest.raises(ValueError, match="unsupported"):
        render_grid([GridRow(sample[0], sample[2])], [tmp_path / "grid.png", tmp_path / "grid.tiff"])
    assert _leftovers(tmp_path, set()) == []


# --- files -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".jpg", ".svg"])
def test_pose_figure_is_a_valid_file_of_the_suffix_format(sample, tmp_path, suffix):
    out = tmp_path / f"figure{suffix}"
    render_pose_figure(sample[0], [_person(sample)], out, title="one person")
    data = out.read_bytes()
    assert len(data) > 5000
    if suffix == ".pdf":
        assert data.startswith(b"%PDF") and b"%%EOF" in data[-64:]
    elif suffix == ".svg":
        assert b"<svg" in data[:2000]
    else:
        with Image.open(out) as image:
            assert image.format == {".png": "PNG", ".jpg": "JPEG"}[suffix]
            image.verify()
    assert _leftovers(tmp_path, {out.name}) == []


def test_png_shows_photo_and_3d_panels(sample, tmp_path):
    out = tmp_path / "figure.png"
    render_pose_figure(sample[0], [_person(sample)], out, dpi=80)
    with Image.open(out) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("RGB")).astype(int)
    assert width > 2 * height  # photo plus a camera view and a rotated view side by side
    # The left/right colours are really drawn, not just declared.
    for color in (render.LEFT_COLOR, render.RIGHT_COLOR):
        rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=-1) < 30).sum() > 50


def test_existing_file_is_replaced_only_by_atomic_rename(sample, tmp_path, monkeypatch):
    out = tmp_path / "figure.png"
    out.write_bytes(b"old figure")
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst)))
        assert Path(src).stat().st_size > 1000  # fully written before it takes the name
        real_replace(src, dst)

    monkeypatch.setattr(render.os, "replace", spy)
    render_pose_figure(sample[0], [_person(sample)], out)
    assert len(renames) == 1
    src, dst = renames[0]
    assert dst == out and src.parent == out.parent and src.suffix == ".png" and src.name.startswith(".")
    assert out.read_bytes().startswith(b"\x89PNG")
    assert _leftovers(tmp_path, {out.name}) == []


def test_failed_render_keeps_the_old_file_and_leaves_no_temp(sample, tmp_path, monkeypatch):
    out = tmp_path / "figure.pdf"
    out.write_bytes(b"old figure")

    def broken_savefig(self, handle, **kwargs):
        handle.write(b"%PDF-half")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        render_pose_figure(sample[0], [_person(sample)], out)
    assert out.read_bytes() == b"old figure"
    assert _leftovers(tmp_path, {out.name}) == []


def test_file_permissions_follow_the_umask(sample, tmp_path):
    out = tmp_path / "figure.png"
    render_pose_figure(sample[0], [], out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


# --- people ----------------------------------------------------------------------------------------------


def test_zero_people_renders_the_photo_alone(sample, tmp_path):
    alone, one = tmp_path / "alone.png", tmp_path / "one.png"
    render_pose_figure(sample[0], [], alone, title="nobody here")
    render_pose_figure(sample[0], [_person(sample)], one)
    with Image.open(alone) as a, Image.open(one) as b:
        assert a.size[0] / a.size[1] < 0.5 * b.size[0] / b.size[1]  # no 3D panels beside the photo
    assert _leftovers(tmp_path, {alone.name, one.name}) == []


def test_several_people_get_one_row_each_up_to_the_limit(sample, tmp_path):
    width = sample[0].shape[1]
    people = [_person(sample, shift_px=dx) for dx in (-0.25 * width, 0.0, 0.25 * width)]
    sizes = {}
    for n_people, limit in [(1, 4), (2, 4), (3, 2)]:
        out = tmp_path / f"people{n_people}.png"
        render_pose_figure(sample[0], people[:n_people], out, max_people_3d=limit, top_view=n_people == 3)
        with Image.open(out) as image:
            sizes[n_people] = image.size
    assert sizes[2][1] > sizes[1][1]  # a second row of 3D panels
    assert abs(sizes[3][1] - sizes[2][1]) <= 2  # the third person is on the photo only
    assert sizes[3][0] > sizes[2][0]  # the top view adds a column


def test_low_confidence_joints_render(sample, tmp_path):
    scores = np.linspace(0.0, 1.0, NUM_JOINTS)
    for name, person in [
        ("some.png", _person(sample, scores)),
        ("all.png", _person(sample, np.zeros(NUM_JOINTS))),
    ]:
        render_pose_figure(sample[0], [person], tmp_path / name, min_score=0.5, crop_to_people=True)
        assert (tmp_path / name).stat().st_size > 5000


def test_keypoints_outside_the_photo_and_degenerate_pose_render(sample, tmp_path):
    image, keypoints, _ = sample
    far = PersonDrawing(keypoints * 5.0 - 3000.0, np.ones(NUM_JOINTS), np.zeros((NUM_JOINTS, 3)))
    render_pose_figure(image, [far], tmp_path / "odd.png", crop_to_people=True)
    render_pose_figure(image[:, :, 0], [far], tmp_path / "gray.png")
    assert (tmp_path / "odd.png").stat().st_size > 1000 and (tmp_path / "gray.png").stat().st_size > 1000


def test_renders_in_threads_without_pyplot(sample, tmp_path):
    errors = []

    def work(i):
        try:
            render_pose_figure(sample[0], [_person(sample)], tmp_path / f"thread{i}.png")
        except Exception as error:  # reported below: an exception in a thread would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for i in range(2):
        with Image.open(tmp_path / f"thread{i}.png") as image:
            image.verify()
    code = "import sys, app.render; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# --- paper-style grids ------------------------------------------------------------------------------------


def test_grid_with_ground_truth_writes_png_and_pdf(sample, tmp_path):
    image, keypoints, pose = sample
    rng = np.random.default_rng(0)
    rows = [
        GridRow(image, pose + rng.normal(0, 0.03, pose.shape), label="with 2D", keypoints_2d=keypoints, gt_3d=pose),
        GridRow(image, pose, label="no ground truth", scores=np.full(NUM_JOINTS, 0.2)),
        GridRow(image, None, label="nobody"),
    ]
    outs = [tmp_path / "figure4.png", tmp_path / "figure4.pdf"]
    render_grid(rows, outs, title="Figure 4", unit="m")
    assert outs[1].read_bytes().startswith(b"%PDF")
    with Image.open(outs[0]) as png:
        width, height = png.size
        png.verify()
    # photo | GT and estimate from the camera and from 90 degrees: 5 columns of about square panels, 3 rows.
    assert width > 1.3 * height
    assert _leftovers(tmp_path, {o.name for o in outs}) == []


def test_in_the_wild_grid_has_no_ground_truth_columns(sample, tmp_path):
    image, keypoints, pose = sample
    rows = [GridRow(image, pose, keypoints_2d=keypoints)] * 2
    narrow, wide = tmp_path / "wild.png", tmp_path / "wild_gt.png"
    render_grid(rows, [narrow], rotated_views_deg=(90.0, -45.0))
    render_grid([GridRow(image, pose, keypoints_2d=keypoints, gt_3d=pose)] * 2, [wide], rotated_views_deg=(90.0, -45.0))
    with Image.open(narrow) as a, Image.open(wide) as b:
        assert a.size[1] == b.size[1] and a.size[0] < b.size[0]
    with pytest.raises(ValueError):
        render_grid([], [narrow])
