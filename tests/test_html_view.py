"""The interactive HTML view: what the page embeds, how it escapes names, and how it behaves in a real browser.

Browser tests drive Debian's Chromium through playwright (pinned in the test extra, using the system
browser: nothing is downloaded) with the network off, and read pixels from screenshots of the canvases.
They skip when chromium or playwright is missing.
"""

import base64
import io
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from app.clip import Clip, PoseTrack
from app.html_view import (
    MAX_IMAGE_HEIGHT,
    THUMBNAIL_HEIGHT,
    place_people,
    write_clip_html,
    write_gallery,
)
from app.pose_style import BONE_COLORS, LEFT_COLOR, RIGHT_COLOR, project_view
from lifter.errors import SvmacError
from lifter.skeleton import BONES, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS

XSS_NAME = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">&amp;.jpg'

# Arms straight out, left leg stepped towards the camera and right leg back: millimetres, root-relative
# camera frame (x right, y down, z away). Facing the camera, so the person's left is on the image's right.
T_POSE_MM = np.array(
    [
        [0, 0, 0],  # Hip
        [-100, 0, 0],  # RHip
        [-100, 420, 150],  # RKnee
        [-100, 850, 300],  # RFoot
        [100, 0, 0],  # LHip
        [100, 420, -150],  # LKnee
        [100, 850, -300],  # LFoot
        [0, -250, 0],  # Spine
        [0, -500, 0],  # Thorax
        [0, -600, -80],  # Neck/Nose
        [0, -700, 0],  # Head
        [180, -480, 0],  # LShoulder
        [450, -480, 0],  # LElbow
        [720, -480, 0],  # LWrist
        [-180, -480, 0],  # RShoulder
        [-450, -480, 0],  # RElbow
        [-720, -480, 0],  # RWrist
    ],
    dtype=np.float64,
)


def rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


def make_track(track_id: int, pose_mm: np.ndarray, keypoints: np.ndarray, frames=None) -> PoseTrack:
    """A track from (F, 17, 3) mm poses and (F, 17, 2) pixel keypoints, every joint seen."""
    count = len(pose_mm)
    return PoseTrack(
        track_id=track_id,
        frames=np.arange(count, dtype=np.int64) if frames is None else np.asarray(frames, np.int64),
        bbox=np.concatenate([keypoints.min(axis=1), keypoints.max(axis=1)], axis=1),
        keypoints_2d=keypoints,
        scores=np.ones((count, NUM_JOINTS)),
        imputed=np.zeros((count, NUM_JOINTS), bool),
        pose_3d=pose_mm / 1000.0,
        pose_3d_mm=pose_mm,
        camera=np.zeros((count, 2, 3)),
    )


def t_pose_clip(name: str = "t-pose.jpg", width: int = 640, height: int = 480) -> Clip:
    keypoints = T_POSE_MM[:, :2] * 0.3 + [width / 2, height / 2]
    return Clip(name, width, height, 1, None, [make_track(0, T_POSE_MM[None], keypoints[None])])


def embedded_record(page: Path) -> dict:
    text = page.read_text()
    match = re.search(r'<script type="application/json" id="svmac-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


def jpeg_of(uri: str) -> Image.Image:
    prefix = "data:image/jpeg;base64,"
    assert uri.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :])))
    assert image.format == "JPEG"
    return image


def test_page_embeds_the_clip_pose_for_pose(packaged_photo, tmp_path):
    photo = np.asarray(Image.open(packaged_photo).convert("RGB"))  # (600, 512, 3)
    height, width = photo.shape[:2]
    poses = np.stack([T_POSE_MM, T_POSE_MM + [0, 0, 40]])  # (2, 17, 3)
    keypoints = np.stack([T_POSE_MM[:, :2] * 0.25 + [256, 300], T_POSE_MM[:, :2] * 0.25 + [270, 300]])
    keypoints[1, 13] = np.nan  # a joint the detector never placed
    track = make_track(5, poses, keypoints)
    track.scores[0, 2] = 0.3  # a doubtful knee
    track.imputed[0, 3] = True  # a foot filled in from the body template, whatever its score said
    clip = Clip("hopper.mp4", width, height, 2, 25.0, [track])

    page = write_clip_html(tmp_path / "hopper.html", clip, [photo, photo[:, ::-1].copy()])

    record = embedded_record(tmp_path / "hopper.html")
    (track,) = record["tracks"]
    assert track["id"] == 5 and track["frames"] == [0, 1]
    assert record["num_frames"] == 2 and record["fps"] == 25.0
    assert track["keypoints"][1][13] is None
    # The page dashes bones whose joints score below min_score: filled-in joints count as unseen.
    assert record["min_score"] == 0.5 and track["scores"][0][2:4] == [0.3, 0.0] and track["scores"][1][3] == 1.0
    got = np.array([[np.nan, np.nan] if p is None else p for p in track["keypoints"][1]])
    np.testing.assert_allclose(got, keypoints[1], atol=0.05)
    # The 3D pose is the clip's, moved as a whole to where its root is seen.
    pose = np.array(track["pose"])
    np.testing.assert_allclose(pose - pose[:, :1], poses - poses[:, :1], atol=0.1)
    np.testing.assert_allclose(pose, place_people(clip)[0], atol=0.05)
    assert record["bone_colors"] == list(BONE_COLORS)
    # Frames as JPEGs no taller than MAX_IMAGE_HEIGHT, aspect kept, in clip order (the second is mirrored).
    first, second = (np.asarray(jpeg_of(uri).convert("RGB"), np.float64) for uri in record["images"])
    assert first.shape == (MAX_IMAGE_HEIGHT, round(width * MAX_IMAGE_HEIGHT / height), 3)
    assert np.abs(first[:, ::-1] - second).mean() < 6 < np.abs(first - second).mean()
    assert page.num_frames == 2 and page.num_people == 1
    assert Image.open(io.BytesIO(page.thumbnail_jpeg)).height == THUMBNAIL_HEIGHT


def test_a_long_clip_stays_a_few_megabytes(packaged_photo, tmp_path):
    photo = np.asarray(Image.open(packaged_photo).convert("RGB"))
    pose = np.repeat(T_POSE_MM[None], 100, axis=0)
    keypoints = np.repeat((T_POSE_MM[:, :2] * 0.25 + [256, 300])[None], 100, axis=0)
    clip = Clip("long.mp4", photo.shape[1], photo.shape[0], 100, 25.0, [make_track(0, pose, keypoints)])
    write_clip_html(tmp_path / "long.html", clip, (photo for _ in range(100)))
    size = (tmp_path / "long.html").stat().st_size
    assert 1e6 < size < 6e6, size


def test_names_are_escaped_and_cannot_end_the_script(tmp_path):
    write_clip_html(tmp_path / "page.html", t_pose_clip(XSS_NAME), None)
    text = (tmp_path / "page.html").read_text()
    assert "<script>window" not in text and "<img" not in text
    assert text.count("</script>") == 2  # the JSON block's and the viewer's own
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in text
    assert "&amp;amp;.jpg" in text  # an entity in a name is shown as typed, not decoded
    assert embedded_record(tmp_path / "page.html")["name"] == XSS_NAME


def test_people_are_placed_where_the_picture_shows_them():
    # Two people, drawn at 0.3 and 0.15 px/mm (the second twice as far away), roots at known pixels.
    near = T_POSE_MM[:, :2] * 0.3 + [100, 300]
    far = T_POSE_MM[:, :2] * 0.15 + [500, 200]
    tracks = [make_track(0, T_POSE_MM[None], near[None]), make_track(1, T_POSE_MM[None], far[None])]
    clip = Clip("two.jpg", 640, 480, 1, None, tracks)
    placed_near, placed_far = place_people(clip)
    np.testing.assert_allclose(placed_near[0, 0], [(100 - 320) / 0.3, (300 - 240) / 0.3, 0], atol=1e-6)
    np.testing.assert_allclose(placed_far[0, 0], [(500 - 320) / 0.15, (200 - 240) / 0.15, 0], atol=1e-6)
    np.testing.assert_allclose(placed_far[0] - placed_far[0, 0], T_POSE_MM, atol=1e-6)


def test_existing_pages_and_bad_frames_are_refused(tmp_path, packaged_photo):
    clip = t_pose_clip()
    page = tmp_path / "page.html"
    page.write_text("mine")
    with pytest.raises(SvmacError, match="exists"):
        write_clip_html(page, clip, None)
    assert page.read_text() == "mine"
    write_clip_html(page, clip, None, overwrite=True)
    assert "svmac-data" in page.read_text()

    frame = np.zeros((480, 640, 3), np.uint8)
    with pytest.raises(SvmacError, match="more frames given than the clip's 1"):
        write_clip_html(tmp_path / "two.html", clip, [frame, frame])
    two_frames = Clip("two", 640, 480, 2, 5.0, [make_track(0, T_POSE_MM[None], T_POSE_MM[None, :, :2])])
    with pytest.raises(SvmacError, match="1 frames given for a clip of 2"):
        write_clip_html(tmp_path / "short.html", two_frames, [frame])
    with pytest.raises(SvmacError, match=r"frame 0 is uint8 \(480, 639, 3\)"):
        write_clip_html(tmp_path / "narrow.html", clip, [frame[:, 1:]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_gallery_links_each_page_relatively_and_escapes_names(tmp_path):
    pages = [
        write_clip_html(tmp_path / "pages" / "a b#1.html", t_pose_clip("a b#1.jpg"), None),
        write_clip_html(tmp_path / "pages" / "xss.html", t_pose_clip(XSS_NAME), None),
    ]
    write_gallery(tmp_path / "index.html", pages)
    text = (tmp_path / "index.html").read_text()
    assert "<script" not in text and "<img src=x" not in text
    links = re.findall(r'<a href="([^"]+)">', text)
    assert [(tmp_path / unquote(link)).resolve() for link in links] == [p.path.resolve() for p in pages]
    assert links[0] == "pages/a%20b%231.html"
    thumbs = [jpeg_of(uri).convert("RGB") for uri in re.findall(r'src="(data:image/jpeg;base64,[^"]+)"', text)]
    assert [t.height for t in thumbs] == [THUMBNAIL_HEIGHT] * 2
    # The thumbnail carries the 2D skeleton in its colours.
    assert colour_mask(np.asarray(thumbs[0]), LEFT_COLOR, 60).sum() > 20
    with pytest.raises(SvmacError, match="exists"):
        write_gallery(tmp_path / "index.html", pages)


# ---- in a real browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class OfflinePage:
    """A page opened from disk with the network off, recording everything that should never happen."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(viewport={"width": 1200, "height": 800}, device_scale_factor=1, offline=True)
        self.page = self.context.new_page()
        self.url = path.resolve().as_uri()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(f"console: {m.text}"))
        self.page.on("dialog", lambda dialog: (self.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        self.page.on("request", self._check_request)
        self.page.goto(self.url)
        assert self.page.evaluate("navigator.onLine") is False

    def _check_request(self, request) -> None:
        # Only opening a page from disk (this one, or one it links to) may ask for anything.
        if not (request.is_navigation_request() and request.url.startswith("file:")):
            self.problems.append(f"request: {request.url[:80]}")

    def wait_for_frame(self, frame: int) -> None:
        self.page.wait_for_selector(f'#view2d[data-drawn-frame="{frame}"]', timeout=5000)

    def shown_frame(self) -> int:
        return int(self.page.get_attribute("#view2d", "data-drawn-frame"))

    def pixels(self, selector: str) -> np.ndarray:
        """(H, W, 3) uint8 screenshot of one element."""
        return np.asarray(Image.open(io.BytesIO(self.page.locator(selector).screenshot())).convert("RGB"))

    def drag(self, selector: str, dx: float, dy: float) -> None:
        box = self.page.locator(selector).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y + dy, steps=8)
        self.page.mouse.up()

    def close(self) -> None:
        self.context.close()


DOTS_PX = 6  # a joint dot's radius (3 px) at each end of a limbs' box


def near_px(measured: float, expected: float) -> bool:
    """Pixel sizes agree to 4 px and 2 %: grey centre joints cover a few pixels of the limbs' bones."""
    return abs(measured - expected) <= 4 + 0.02 * expected


def colour_mask(pixels: np.ndarray, hex_color: str, tolerance: int = 40) -> np.ndarray:
    return np.abs(pixels.astype(int) - rgb(hex_color)).max(axis=2) <= tolerance


def side_box(pixels: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box (x0, x1, y0, y1) of the blue and orange pixels: the limbs."""
    ys, xs = np.nonzero(colour_mask(pixels, LEFT_COLOR) | colour_mask(pixels, RIGHT_COLOR))
    return xs.min(), xs.max(), ys.min(), ys.max()


def expected_limb_extent(pose: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    """(width, height) in mm of the orthographic view of every joint a coloured bone touches."""
    sides = (LEFT_COLOR, RIGHT_COLOR)
    coloured = sorted({joint for bone, color in zip(BONES, BONE_COLORS) if color in sides for joint in bone})
    uv, _ = project_view(pose[coloured], azimuth, elevation)
    return uv.max(axis=0) - uv.min(axis=0)


def assert_3d_view_shows(
    pixels: np.ndarray, pose: np.ndarray, azimuth: float, elevation: float, px_per_mm: float
) -> None:
    """The limbs' box in the 3D canvas matches the projected pose at the page's scale, give or take the joint dots."""
    x0, x1, y0, y1 = side_box(pixels)
    width_mm, height_mm = expected_limb_extent(pose, azimuth, elevation)
    for measured, mm in ((x1 - x0, width_mm), (y1 - y0, height_mm)):
        assert near_px(measured, mm * px_per_mm + DOTS_PX), (measured, mm * px_per_mm + DOTS_PX)
    uv, _ = project_view(pose, azimuth, elevation)
    left_u = uv[list(LEFT_JOINTS), 0].mean() - uv[list(RIGHT_JOINTS), 0].mean()
    ys_l, xs_l = np.nonzero(colour_mask(pixels, LEFT_COLOR))
    ys_r, xs_r = np.nonzero(colour_mask(pixels, RIGHT_COLOR))
    if abs(left_u) * px_per_mm > 20:  # the sides are apart in this view: blue must be on the pose's left side
        assert np.sign(xs_l.mean() - xs_r.mean()) == np.sign(left_u)


def page_scale(pixels: np.ndarray, pose: np.ndarray) -> float:
    """Pixels per mm of the 3D canvas, from the limbs' height in the camera view."""
    _, _, y0, y1 = side_box(pixels)
    return (y1 - y0 - DOTS_PX) / expected_limb_extent(pose, 0, 0)[1]


def test_dragging_turns_the_3d_view(browser, tmp_path):
    """A synthetic T-pose with a step: arms along x, legs apart in depth, so a quarter turn is unmistakable
    (the limbs' box goes from wide to narrow, and the stepped-forward left foot swings to one known side).
    Real poses are too irregular to make such a turn's expected pixels obvious; the H36M tests cover those."""
    write_clip_html(tmp_path / "t.html", t_pose_clip(), None)
    view = OfflinePage(browser, tmp_path / "t.html")
    try:
        view.wait_for_frame(0)
        before = view.pixels("#view3d")
        scale = page_scale(before, T_POSE_MM)
        assert 0.15 < scale < 0.4
        assert_3d_view_shows(before, T_POSE_MM, 0, 0, scale)

        view.drag("#view3d", 180, 0)  # grab and pull right: the body's front turns right, azimuth -90
        assert view.page.inner_text("#view-text") == "azimuth -90°, elevation 0°"
        turned = view.pixels("#view3d")
        assert_3d_view_shows(turned, T_POSE_MM, -90, 0, scale)
        x0, x1, _, _ = side_box(turned)
        assert (x1 - x0) < 0.5 * np.ptp(side_box(before)[:2])  # shoulders seen edge-on
        # The left foot stepped towards the camera, which is now on the panel's right.
        ys, xs = np.nonzero(colour_mask(turned, LEFT_COLOR))
        assert xs[ys == ys.max()].mean() > turned.shape[1] / 2 + 0.8 * 300 * scale

        view.drag("#view3d", 0, 60)  # and down: looking from 30 degrees above
        assert view.page.inner_text("#view-text") == "azimuth -90°, elevation 30°"
        assert_3d_view_shows(view.pixels("#view3d"), T_POSE_MM, -90, 30, scale)

        view.page.mouse.wheel(0, -100)  # zoom in by exp(0.15)
        assert_3d_view_shows(view.pixels("#view3d"), T_POSE_MM, -90, 30, scale * np.exp(0.15))
        view.page.click("#reset-view")
        assert_3d_view_shows(view.pixels("#view3d"), T_POSE_MM, 0, 0, scale)
        assert view.page.is_hidden("#clip-controls")  # a photo has no player
        assert view.problems == []
    finally:
        view.close()


def test_two_people_stand_apart_in_3d(browser, tmp_path):
    near = T_POSE_MM[:, :2] * 0.3 + [60, 300]
    far = T_POSE_MM[:, :2] * 0.3 + [580, 300]
    tracks = [make_track(0, T_POSE_MM[None], near[None]), make_track(7, T_POSE_MM[None], far[None])]
    write_clip_html(tmp_path / "two.html", Clip("two.jpg", 640, 480, 1, None, tracks), None)
    view = OfflinePage(browser, tmp_path / "two.html")
    try:
        view.wait_for_frame(0)
        pixels = view.pixels("#view3d")
        x0, x1, y0, y1 = side_box(pixels)
        # Side by side, 520 px / 0.3 px/mm apart: the limbs span that plus one T-pose's arm span.
        scale = page_scale(pixels, T_POSE_MM)
        assert near_px(x1 - x0, (520 / 0.3 + 1440) * scale + DOTS_PX)
        middle = colour_mask(pixels, LEFT_COLOR) | colour_mask(pixels, RIGHT_COLOR)
        columns = np.flatnonzero(middle.any(axis=0))
        assert np.diff(columns).max() > (520 / 0.3 - 1440) * scale - DOTS_PX - 4  # the gap between them
        assert view.problems == []
    finally:
        view.close()


def test_hostile_names_run_nothing(browser, packaged_photo, tmp_path):
    photo = np.asarray(Image.open(packaged_photo).convert("RGB"))
    clip = t_pose_clip(XSS_NAME, photo.shape[1], photo.shape[0])
    page = write_clip_html(tmp_path / "x.html", clip, [photo])
    write_gallery(tmp_path / "index.html", [page], title=XSS_NAME)
    for path in (tmp_path / "x.html", tmp_path / "index.html"):
        view = OfflinePage(browser, path)
        try:
            view.page.wait_for_load_state("load")
            assert view.page.evaluate("window.__xss") is None
            assert view.page.inner_text("h1") == XSS_NAME
            assert view.problems == []  # no dialog, no error, and no script blocked by the page's policy
        finally:
            view.close()


def test_gallery_link_opens_the_page(browser, tmp_path):
    """The link works with a space and a # in the name; the page of a photo where nobody was found loads too."""
    page = write_clip_html(tmp_path / "pages" / "a b#1.html", Clip("a b#1.jpg", 640, 480, 1, None, []), None)
    write_gallery(tmp_path / "index.html", [page])
    view = OfflinePage(browser, tmp_path / "index.html")
    try:
        view.page.click("a")
        view.page.wait_for_url(page.path.resolve().as_uri())
        view.wait_for_frame(0)
        assert view.page.inner_text("h1") == "a b#1.jpg"
        assert view.page.inner_text(".summary") == "0 people"
        assert view.problems == []
    finally:
        view.close()


# ---- real Human3.6M data ----------------------------------------------------------------------------


def h36m_fixture_photo(data_dir: Path) -> tuple[Clip, np.ndarray]:
    """The fixture's first real frame (S1 Directions) with its ground-truth 2D and 3D."""
    root = data_dir / "fixtures" / "h36m"
    fixture = np.load(root / "test_h36m_body3d.npz")
    photo = np.asarray(Image.open(root / str(fixture["imgname"][0])).convert("RGB"))
    keypoints = fixture["part"][0, :, :2].astype(np.float64)  # (17, 2) px
    pose_mm = fixture["S"][0, :, :3] * 1000.0  # (17, 3) camera frame
    pose_mm = pose_mm - pose_mm[0]
    track = make_track(0, pose_mm[None], keypoints[None])
    clip = Clip(str(fixture["imgname"][0]), photo.shape[1], photo.shape[0], 1, None, [track])
    return clip, photo


def joints_marked(pixels: np.ndarray, keypoints_px: np.ndarray, window: int = 3) -> float:
    """Share of left/right joints whose displayed position has their side's colour within `window` px."""
    hits = []
    for joints, color in ((LEFT_JOINTS, LEFT_COLOR), (RIGHT_JOINTS, RIGHT_COLOR)):
        mask = colour_mask(pixels, color)
        for x, y in np.round(keypoints_px[list(joints)]).astype(int):
            hits.append(mask[max(y - window, 0) : y + window + 1, max(x - window, 0) : x + window + 1].any())
    return float(np.mean(hits))


def test_h36m_photo_in_the_browser(browser, data_dir, tmp_path):
    clip, photo = h36m_fixture_photo(data_dir)
    write_clip_html(tmp_path / "h36m.html", clip, [photo])
    view = OfflinePage(browser, tmp_path / "h36m.html")
    try:
        view.wait_for_frame(0)
        picture = view.pixels("#view2d")
        assert joints_marked(picture, clip.tracks[0].keypoints_2d[0] * picture.shape[1] / clip.width) == 1.0
        pose = clip.tracks[0].pose_3d_mm[0]
        before = view.pixels("#view3d")
        scale = page_scale(before, pose)
        assert_3d_view_shows(before, pose, 0, 0, scale)
        view.drag("#view3d", -120, 0)
        assert_3d_view_shows(view.pixels("#view3d"), pose, 60, 0, scale)
        assert view.problems == []
    finally:
        view.close()


def h36m_walking_clip(data_dir: Path, frames=range(100, 400, 10)) -> Clip:
    """S9 Walking 1 seen by camera 54138969 (1000 x 1002 px), 6 s as 30 frames at 5 frames/s: ground-truth
    3D in the camera frame and its 2D through the camera's own distortion model (shared/data README)."""
    world = np.load(data_dir / "h36m" / "h36m_3d_17j_mm.npz")["S9/Walking 1"][list(frames)].astype(np.float64)
    cameras = np.load(data_dir / "h36m" / "h36m_cameras.npz")
    R, T, f, c, k, p = (cameras[f"S9/54138969/{name}"] for name in "RTfckp")
    camera = (world - T) @ R.T  # (F, 17, 3)
    x = camera[..., :2] / camera[..., 2:]
    r2 = np.sum(x**2, axis=-1, keepdims=True)
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tangential = p[0] * x[..., 1:] + p[1] * x[..., :1]
    keypoints = f * (x * (radial + tangential) + np.array([p[1], p[0]]) * r2) + c
    pose_mm = camera - camera[:, :1]
    return Clip("S9 Walking 1.54138969", 1000, 1002, len(frames), 5.0, [make_track(0, pose_mm, keypoints)])


def test_h36m_clip_slider_and_player(browser, data_dir, tmp_path):
    clip = h36m_walking_clip(data_dir)
    write_clip_html(tmp_path / "walk.html", clip, None)
    track = clip.tracks[0]
    view = OfflinePage(browser, tmp_path / "walk.html")
    try:
        view.wait_for_frame(0)
        first_2d, first_3d = view.pixels("#view2d"), view.pixels("#view3d")
        k = first_2d.shape[1] / clip.width
        moved = np.linalg.norm(track.keypoints_2d[20] - track.keypoints_2d[0], axis=1) * k
        assert moved.mean() > 40  # he walked: frame 20's joints are elsewhere

        view.page.locator("#frame-slider").fill("20")
        view.wait_for_frame(20)
        assert view.page.inner_text("#frame-text") == "frame 21 / 30 · 4.00 s"
        later_2d, later_3d = view.pixels("#view2d"), view.pixels("#view3d")
        assert joints_marked(first_2d, track.keypoints_2d[0] * k) == 1.0
        assert joints_marked(later_2d, track.keypoints_2d[20] * k) == 1.0
        assert joints_marked(later_2d, track.keypoints_2d[0] * k) < 0.5
        # The 3D view follows the walker and shows frame 20's pose.
        scale = page_scale(first_3d, track.pose_3d_mm[0])
        assert_3d_view_shows(later_3d, track.pose_3d_mm[20], 0, 0, scale)
        assert np.abs(later_3d.astype(int) - first_3d).max(axis=2).astype(bool).sum() > 500

        view.page.click("#play")
        shown = [view.shown_frame()]
        while shown[-1] < 23 and len(shown) < 60:  # 0.6 s at 5 frames/s; at most 3 s on a busy machine
            view.page.wait_for_timeout(50)
            shown.append(view.shown_frame())
        view.page.click("#play")  # pause
        paused = view.shown_frame()
        view.page.wait_for_timeout(500)
        assert shown[-1] >= 23 and np.all(np.diff(shown) >= 0) and view.shown_frame() == paused
        assert view.problems == []
    finally:
        view.close()
