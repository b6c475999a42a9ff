"""The fast OpenCV frame drawing: real pixels where the joints, ids and views say they are."""

import numpy as np
import pytest
from PIL import Image
from test_render import STANDING_POSE  # pytest puts the tests folder on sys.path

from app.draw import FLOOR, VIEWS, DrawnPerson, _Style, draw_frame, frame_layout, write_picture
from app.pose_style import JOINT_COLORS, LEFT_COLOR, RIGHT_COLOR
from lifter.skeleton import NUM_JOINTS

LWRIST, LELBOW, RWRIST, RELBOW, HEAD = 13, 12, 16, 15, 10

# test_render's standing person facing the camera, in mm (root-relative camera frame: x right, y down, z away):
# their left side is on the camera's right (+x). Here the left hand also reaches towards the camera (-z)
# and the right one away, so that the turned view has a known left and right too.
STANDING_MM = 1000.0 * STANDING_POSE
STANDING_MM[[LELBOW, LWRIST, RELBOW, RWRIST], 2] = [-200.0, -450.0, 200.0, 450.0]


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


BLUE, ORANGE = _rgb(LEFT_COLOR), _rgb(RIGHT_COLOR)


def _near(pixels: np.ndarray, color: np.ndarray, tolerance: int = 40) -> np.ndarray:
    """(..., 3) -> (...) bool: every channel within tolerance of color."""
    return (np.abs(pixels.astype(int) - color) <= tolerance).all(axis=-1)


def _pinhole(pose_mm: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """(17, 3) mm -> (17, 2) pixels, as a camera 4 m away with f = 1.2 image heights would see it."""
    height, width = image_shape[:2]
    points = pose_mm / 1000.0 + np.array([0.0, 0.05, 4.0])
    return 1.2 * height * points[:, :2] / points[:, 2:] + np.array([width / 2, height / 2])


@pytest.fixture(scope="module")
def photo(packaged_photo) -> np.ndarray:
    """Grace Hopper, a real photo (600, 512, 3) uint8 RGB."""
    return np.asarray(Image.open(packaged_photo).convert("RGB"))


def _person(photo: np.ndarray, track_id: int | None = 3, low: tuple[int, ...] = ()) -> DrawnPerson:
    scores = np.full(NUM_JOINTS, 0.9)
    scores[list(low)] = 0.1
    return DrawnPerson(track_id, _pinhole(STANDING_MM, photo.shape), scores, STANDING_MM.copy())


def test_sizes_and_type(photo):
    out = draw_frame(photo, [_person(photo)])
    layout = frame_layout(*photo.shape[:2])
    assert out.shape == (layout.height, layout.width, 3) == (600, 512 + 300, 3)
    assert out.dtype == np.uint8
    # A portrait video frame shrunk for the annotated video; the width stays even for the codec.
    frame = np.zeros((1920, 1087, 3), np.uint8)
    small = draw_frame(frame, [], panel_height=960)
    assert small.shape == (960, 543 + 481, 3) and small.shape[1] % 2 == 0
    # A resized frame is the whole frame, scaled (compared with Pillow's own box-filter resize).
    shrunk = draw_frame(photo, [], panel_height=300)
    layout = frame_layout(*photo.shape[:2], panel_height=300)
    reference = np.asarray(Image.fromarray(photo).resize((layout.frame_width, 300), Image.Resampling.BOX))
    assert np.abs(shrunk[:, : layout.frame_width].astype(int) - reference).mean() < 3
    # Small photos are enlarged so that the 3D views and labels stay readable.
    assert draw_frame(photo[:150, :200], []).shape[0] == 480


def test_joint_colours_on_the_frame_in_rgb(photo):
    person = _person(photo)
    out = draw_frame(photo, [person])
    for joint in (LWRIST, RWRIST, HEAD):
        x, y = np.round(person.keypoints_2d[joint]).astype(int)
        patch = out[y - 1 : y + 2, x - 1 : x + 2]  # the disc's centre
        assert _near(patch, _rgb(JOINT_COLORS[joint]), 30).all(), joint
    # Facing the camera: the person's left (blue) is on the photo's right.
    assert person.keypoints_2d[LWRIST, 0] > photo.shape[1] / 2 > person.keypoints_2d[RWRIST, 0]


def test_drawing_into_a_reused_array(photo):
    layout = frame_layout(*photo.shape[:2])
    buffer = np.zeros((layout.height, layout.width, 3), np.uint8)
    first = draw_frame(photo, [_person(photo)], out=buffer)
    assert first is buffer and np.array_equal(buffer, draw_frame(photo, [_person(photo)]))
    draw_frame(photo, [], out=buffer)  # the next frame leaves nothing of the previous one
    assert np.array_equal(buffer, draw_frame(photo, []))
    with pytest.raises(ValueError, match="out must be"):
        draw_frame(photo, [], out=np.zeros((10, 10, 3), np.uint8))


def test_input_not_modified_and_frame_kept_around_the_skeleton(photo):
    before = photo.copy()
    out = draw_frame(photo, [_person(photo)])
    assert np.array_equal(photo, before)
    assert np.array_equal(out[:40, :40], photo[:40, :40])  # far from the person: the photo itself


def test_left_and_right_on_their_sides_in_both_3d_views(photo):
    out = draw_frame(photo, [_person(photo)])
    layout = frame_layout(*photo.shape[:2])
    assert len(VIEWS) == 2
    for row, expect_left in ((0, ORANGE), (1, BLUE)):
        view = out[row * layout.view_side : (row + 1) * layout.view_side, layout.frame_width :]
        view = view[: int(0.9 * layout.view_side)]  # above the legend
        blue_cols = np.flatnonzero(_near(view, BLUE, 25).any(axis=0))
        orange_cols = np.flatnonzero(_near(view, ORANGE, 25).any(axis=0))
        assert len(blue_cols) > 20 and len(orange_cols) > 20
        left_most = BLUE if blue_cols.min() < orange_cols.min() else ORANGE
        right_most = BLUE if blue_cols.max() > orange_cols.max() else ORANGE
        # Camera view: the right wrist (x = -0.38 m) is leftmost, the left wrist rightmost. Turned 90 degrees
        # with the camera on the left: the left wrist (towards the camera) is leftmost, the right one rightmost.
        assert np.array_equal(left_most, expect_left), row
        assert not np.array_equal(right_most, expect_left), row


def test_floor_under_the_feet_in_3d(photo):
    out = draw_frame(photo, [_person(photo)])
    layout = frame_layout(*photo.shape[:2])
    view = out[: layout.view_side, layout.frame_width :]
    floor_rows = np.flatnonzero(_near(view, np.array(FLOOR), 3).sum(axis=1) > 20)  # not the grey edges of text
    skeleton_rows = np.flatnonzero((_near(view, BLUE, 25) | _near(view, ORANGE, 25)).any(axis=1))
    # The feet are the skeleton's lowest pixels; the floor lies around them, far below the head.
    assert floor_rows.min() > skeleton_rows.min() + 0.6 * (skeleton_rows.max() - skeleton_rows.min())
    assert floor_rows.min() - 10 <= skeleton_rows.max() <= floor_rows.max() + 10


def test_id_label_above_the_head_on_frame_and_in_panel(photo):
    person = _person(photo, track_id=5)
    with_id = draw_frame(photo, [person])
    without = draw_frame(photo, [_person(photo, track_id=None)])
    layout = frame_layout(*photo.shape[:2])
    changed = (with_id != without).any(axis=2)
    frame_rows = np.flatnonzero(changed[:, : layout.frame_width].any(axis=1))
    assert len(frame_rows) > 5
    assert frame_rows.max() < person.keypoints_2d[:, 1].min()  # the label is above the highest joint
    band = slice(frame_rows.min(), frame_rows.max() + 1), slice(0, layout.frame_width)
    box = with_id[band][changed[band]]  # (N, 3) the pixels the label changed
    assert (box.max(axis=1) < 80).sum() > 10  # dark text ...
    assert (box.min(axis=1) > 240).sum() > 10  # ... on a white box
    assert changed[: layout.view_side, layout.frame_width :].sum() > 50  # and one above the 3D skeleton


def test_low_score_joint_is_a_cross_and_its_bones_dashed(photo):
    person = _person(photo)
    solid = draw_frame(photo, [person])
    low = draw_frame(photo, [_person(photo, low=(LWRIST,))])
    style = _Style.for_height(photo.shape[0])
    centre = person.keypoints_2d[LWRIST]
    # A point on one arm of the x, off the disc a confident joint gets (the bone comes from above).
    offset = 0.75 * 1.6 * style.joint_radius
    x, y = np.round(centre + [offset, offset]).astype(int)
    assert _near(low[y, x], BLUE, 45)
    assert not _near(solid[y, x], BLUE, 45)
    # Along the elbow-wrist bone: solid blue all the way, dashed one has gaps.
    elbow = person.keypoints_2d[LELBOW]
    samples = [np.round(elbow + t * (centre - elbow)).astype(int) for t in np.linspace(0.25, 0.75, 40)]
    on_solid = np.array([_near(solid[y, x], BLUE, 45) for x, y in samples])
    on_dashed = np.array([_near(low[y, x], BLUE, 45) for x, y in samples])
    assert on_solid.all()
    assert 0.3 < on_dashed.mean() < 0.9


def test_no_people_and_absent_tracks(photo):
    empty = draw_frame(photo, [])
    layout = frame_layout(*photo.shape[:2])
    assert np.array_equal(empty[:, : layout.frame_width], photo)
    assert (empty[layout.view_side // 3 :, layout.frame_width + 10 :] < 150).any()  # "no person found"
    absent = DrawnPerson(
        4, np.full((NUM_JOINTS, 2), np.nan), np.full(NUM_JOINTS, np.nan), np.full((NUM_JOINTS, 3), np.nan)
    )
    assert np.array_equal(draw_frame(photo, [absent]), empty)


def test_missing_joints_are_skipped(photo):
    person = _person(photo)
    where = np.round(person.keypoints_2d[LWRIST]).astype(int)
    person.keypoints_2d[LWRIST] = np.nan
    person.pose_3d_mm[LWRIST] = np.nan
    person.scores[LWRIST] = np.nan
    out = draw_frame(photo, [person])
    x, y = where
    assert np.array_equal(out[y, x], photo[y, x])  # no wrist, no forearm
    # Without a root the 3D is left out but the 2D stays.
    person.pose_3d_mm[0] = np.nan
    out = draw_frame(photo, [person])
    layout = frame_layout(*photo.shape[:2])
    assert _near(out[:, : layout.frame_width], BLUE, 25).any()
    assert not _near(out[: layout.view_side, layout.frame_width :], BLUE, 25).any()


def test_several_people_side_by_side_with_ids(photo):
    left, right = _person(photo, track_id=0), _person(photo, track_id=1)
    left.keypoints_2d = left.keypoints_2d - [120, 0]
    right.keypoints_2d = right.keypoints_2d + [120, 0]
    left.pose_3d_mm[LWRIST] = [300.0, -900.0, 0.0]  # the person on the frame's left raises the left hand
    # Listed right person first: the panel still shows them in the frame's left-to-right order.
    out = draw_frame(photo, [right, left])
    layout = frame_layout(*photo.shape[:2])
    view = out[: int(0.9 * layout.view_side), layout.frame_width :]
    half = layout.panel_width // 2
    top_blue = [np.flatnonzero(_near(part, BLUE, 25).any(axis=1)).min() for part in (view[:, :half], view[:, half:])]
    assert top_blue[0] < top_blue[1] - 20  # the raised hand is in the left half
    # Only the first listed person gets 3D when one is allowed: the panel is the one drawn for it alone,
    # but for the note that says a person was left out.
    capped = draw_frame(photo, [right, left], max_people_3d=1)[: layout.view_side, layout.frame_width :]
    alone = draw_frame(photo, [right])[: layout.view_side, layout.frame_width :]
    band = int(0.9 * layout.view_side)
    assert np.array_equal(capped[:band], alone[:band])
    assert not np.array_equal(capped[band:], alone[band:])


def test_bad_frame_is_rejected(photo):
    with pytest.raises(ValueError, match="uint8"):
        draw_frame(photo.astype(np.float32), [])
    with pytest.raises(ValueError, match="panel_height"):
        draw_frame(photo, [], panel_height=50)


def test_pictures_are_written_whole(photo, tmp_path):
    picture = draw_frame(photo, [_person(photo)])
    write_picture(tmp_path / "a.png", picture)
    write_picture(tmp_path / "a.jpg", picture)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png")), picture)  # PNG is lossless, RGB kept
    assert np.abs(np.asarray(Image.open(tmp_path / "a.jpg")).astype(int) - picture).mean() < 4
    with pytest.raises(ValueError, match="pdf"):
        write_picture(tmp_path / "a.pdf", picture)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "a.png"]  # no temporary files left
