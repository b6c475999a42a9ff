"""Fast drawing of one frame (a video frame or a photo): every person's 2D skeleton and id on the frame,
beside a panel with their lifted 3D skeletons, all drawn with OpenCV into one RGB uint8 image.

matplotlib (app.render) takes ~120 ms per figure; a video needs >= 25 frames/s, so this module draws
the same picture language with cv2 lines, circles and text instead (anti-aliased, sub-pixel positions):
left limbs blue, right orange, spine/head grey (app.pose_style); a joint whose score is below
`min_score` is an x and its bones dashed. The panel holds two square views stacked: the camera's own
view and the view turned 90 degrees about the vertical axis (app.pose_style.project_view, 10 degrees
from above), people side by side in the order they stand on the frame (left to right), each with an id
label, a floor grid under its feet and its shadow on that floor. Every view shares one millimetre scale,
fixed unless a pose needs more room, so sizes do not pump from frame to frame in a video.
"""

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from app.pose_style import BONE_COLORS, JOINT_COLORS, LEFT_COLOR, LOW_SCORE_DASH, RIGHT_COLOR, project_view
from lifter.checkpoint import atomic_write
from lifter.skeleton import BONES, NUM_JOINTS, ROOT

# Views of the panel, top to bottom: (azimuth, elevation) in degrees, and their titles.
VIEWS: tuple[tuple[float, float], ...] = ((0.0, 10.0), (90.0, 10.0))
VIEW_TITLES: tuple[str, ...] = ("camera view", "turned 90 deg (camera left)")
# Height of the world shown in a view when every pose fits in it; the root sits ROOT_LEVEL of the way down,
# which leaves room above for raised arms and below for the legs and the floor.
VIEW_SPAN_MM = 2400.0
ROOT_LEVEL = 0.42
MAX_PEOPLE_3D = 4
# Small photos are enlarged to this height so that labels and the 3D views stay readable.
MIN_HEIGHT = 480

WHITE = (255, 255, 255)
INK = (40, 40, 40)
FLOOR = (237, 237, 237)
GRID = (199, 199, 199)
SHADOW = (188, 188, 188)
BORDER = (204, 204, 204)
HINT = (115, 115, 115)

# Picture files: zlib level 3 (a quarter of level 6's time for ~15 % more bytes) and JPEG quality 90, as
# app.render saves its figures.
ENCODE_OPTIONS: dict[str, list[int]] = {
    ".png": [cv2.IMWRITE_PNG_COMPRESSION, 3],
    ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 90],
    ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 90],
}

SHIFT = 4  # cv2 fixed-point bits: coordinates are drawn at 1/16 pixel
ONE = 1 << SHIFT
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


JOINT_RGB: tuple[tuple[int, int, int], ...] = tuple(_rgb(c) for c in JOINT_COLORS)
BONE_RGB: tuple[tuple[int, int, int], ...] = tuple(_rgb(c) for c in BONE_COLORS)


@dataclass
class DrawnPerson:
    """One person in one frame. NaN joints (or a whole NaN person: a track absent from the frame) are skipped."""

    track_id: int | None  # shown as "id N"; None draws no label
    keypoints_2d: np.ndarray  # (17, 2) pixels of the source frame, x right, y down
    scores: np.ndarray  # (17,) detector confidence in [0, 1]
    pose_3d_mm: np.ndarray  # (17, 3) millimetres, camera frame (x right, y down, z away); root-relative or not


@dataclass(frozen=True)
class _Style:
    """Line widths, radii and font sizes for an output of a given height (pixels)."""

    bone: int
    halo: int
    joint_radius: float
    font_scale: float
    font_thickness: int

    @staticmethod
    def for_height(height: int) -> "_Style":
        bone = max(2, round(height / 320))
        scale = max(0.4, height / 1100)
        return _Style(bone, bone + max(2, round(bone * 0.7)), 0.8 * bone + 1.0, scale, max(1, round(scale * 1.6)))


def _fixed(points: np.ndarray) -> list:
    """(..., 2) float pixels -> nested lists of ints in cv2's fixed point (SHIFT fractional bits). Plain
    Python ints: cv2 takes them without per-call NumPy conversions, which cost more than the drawing."""
    return np.round(points * ONE).astype(np.int32).tolist()


def _dashes(start: np.ndarray, end: np.ndarray, width: int) -> list[np.ndarray]:
    """(2,) (2,) float pixels -> list of (2, 2) int32 fixed-point dash pieces, in render.py's dash rhythm.

    cv2 ends a thick line with a round cap of radius width/2, so each piece is cut short by that much to
    leave the visible gaps as long as the pattern says (at least 3 px, or thin lines would look solid).
    """
    on, off = (width * length for length in LOW_SCORE_DASH[1])
    off = max(off, 3.0)
    length = float(np.hypot(*(end - start)))
    if length < 1e-6:
        return []
    starts = np.arange(0.0, length, on + off) + width / 2  # (D,) distance of each dash's start along the bone
    stops = np.maximum(np.minimum(starts + on - width, length - width / 2), starts)
    direction = (end - start) / length
    pieces = start + np.stack([starts, stops], axis=1)[..., None] * direction  # (D, 2, 2)
    return list(np.round(pieces * ONE).astype(np.int32))


def _draw_bone(image: np.ndarray, points: np.ndarray, fixed: list, bone: tuple[int, int], color, width, dashed):
    """One bone between joints bone = (a, b) of points (J, 2) float pixels, whose fixed-point copy is `fixed`."""
    a, b = bone
    if dashed:
        pieces = _dashes(points[a], points[b], width)
        if pieces:
            cv2.polylines(image, pieces, False, color, width, cv2.LINE_AA, SHIFT)
    else:
        cv2.line(image, fixed[a], fixed[b], color, width, cv2.LINE_AA, SHIFT)


def _draw_cross(image: np.ndarray, centre: list, half: float, color, width: int) -> None:
    """An x of half-size `half` pixels at a fixed-point centre."""
    (x, y), h = centre, round(half * ONE)
    cv2.line(image, (x - h, y - h), (x + h, y + h), color, width, cv2.LINE_AA, SHIFT)
    cv2.line(image, (x - h, y + h), (x + h, y - h), color, width, cv2.LINE_AA, SHIFT)


def _draw_dot(image: np.ndarray, centre: list, radius: float, color, rim: int) -> None:
    """A filled disc with a white rim at a fixed-point centre."""
    cv2.circle(image, centre, round((radius + rim) * ONE), WHITE, -1, cv2.LINE_AA, SHIFT)
    cv2.circle(image, centre, round(radius * ONE), color, -1, cv2.LINE_AA, SHIFT)


def _low_scores(scores: np.ndarray, min_score: float) -> np.ndarray:
    # NaN scores count as low: nothing vouches for that joint.
    return ~(np.asarray(scores, dtype=np.float64) >= min_score)


def _label_size(text: str, style: _Style) -> tuple[int, int, int, int]:
    """-> text width, text height, baseline depth, padding: the box of an id label is (w + 2 pad, h + base + 2 pad)."""
    (tw, th), base = cv2.getTextSize(text, FONT, style.font_scale, style.font_thickness)
    return tw, th, base, max(2, round(th * 0.3))


def _draw_label(image: np.ndarray, text: str, anchor: tuple[float, float], style: _Style, bounds: tuple[int, int]):
    """White box with dark text centred above anchor (x, bottom y), kept inside (width, height) bounds."""
    tw, th, base, pad = _label_size(text, style)
    x0 = int(np.clip(anchor[0] - tw / 2 - pad, 0, max(0, bounds[0] - tw - 2 * pad - 1)))
    y0 = int(np.clip(anchor[1] - th - base - 2 * pad, 0, max(0, bounds[1] - th - base - 2 * pad - 1)))
    x1, y1 = x0 + tw + 2 * pad, y0 + th + base + 2 * pad
    cv2.rectangle(image, (x0, y0), (x1, y1), WHITE, -1)
    cv2.rectangle(image, (x0, y0), (x1, y1), INK, max(1, style.font_thickness // 2), cv2.LINE_AA)
    cv2.putText(
        image, text, (x0 + pad, y1 - pad - base), FONT, style.font_scale, INK, style.font_thickness, cv2.LINE_AA
    )


def _draw_skeleton_2d(image: np.ndarray, keypoints: np.ndarray, low: np.ndarray, style: _Style) -> None:
    """(17, 2) output pixels onto image: a white halo under every stroke keeps colours readable on any frame."""
    finite = np.isfinite(keypoints).all(axis=1)
    fixed = _fixed(np.where(finite[:, None], keypoints, 0.0))
    bones = [(i, bone) for i, bone in enumerate(BONES) if finite[bone[0]] and finite[bone[1]]]
    # The halo stays solid under a dashed bone: its gaps show white, readable on any frame.
    for _, bone in bones:
        _draw_bone(image, keypoints, fixed, bone, WHITE, style.halo, dashed=False)
    for i, bone in bones:
        _draw_bone(image, keypoints, fixed, bone, BONE_RGB[i], style.bone, dashed=bool(low[bone[0]] or low[bone[1]]))
    for j in np.flatnonzero(finite):
        if low[j]:
            half = style.joint_radius * 1.6
            _draw_cross(image, fixed[j], half, WHITE, style.halo)
            _draw_cross(image, fixed[j], half, JOINT_RGB[j], style.bone)
        else:
            _draw_dot(image, fixed[j], style.joint_radius, JOINT_RGB[j], max(1, style.bone // 3))


@lru_cache(maxsize=8)
def _panel_background(width: int, height: int, view_side: int, min_score: float) -> np.ndarray:
    """The panel's parts that do not move: white views with borders, titles and the colour legend."""
    panel = np.full((height, width, 3), 255, np.uint8)
    style = _Style.for_height(height)
    margin = max(4, view_side // 40)
    for row, title in enumerate(VIEW_TITLES):
        top = row * view_side
        cv2.rectangle(panel, (1, top + 1), (width - 2, top + view_side - 2), BORDER, 1)
        _put_text(panel, title, (margin, top + _title_band(view_side) * 3 // 4), style, INK, 0.8)
    _draw_legend(
        panel, (margin, len(VIEWS) * view_side - max(6, view_side // 50)), width - 2 * margin, style, min_score
    )
    panel.setflags(write=False)
    return panel


def _draw_legend(image: np.ndarray, origin: tuple[int, int], width: int, style: _Style, min_score: float) -> None:
    """One line from origin (left, baseline): left and right colours, then how a low-score joint looks,
    shrunk to fit `width` pixels."""
    items = (("left", _rgb(LEFT_COLOR), False), ("right", _rgb(RIGHT_COLOR), False))
    items += ((f"score < {min_score:g}", INK, True),)
    scale = 0.8
    text_w = sum(cv2.getTextSize(t, FONT, style.font_scale * scale, style.font_thickness)[0][0] for t, _, _ in items)
    em = cv2.getTextSize("x", FONT, style.font_scale * scale, style.font_thickness)[0][1]
    needed = text_w + em * (3 * 4 + 2 + 3 * 3)  # 3 em of line and 1 em of gap before each text, 3 em between items
    scale *= min(1.0, width / needed)
    em = cv2.getTextSize("x", FONT, style.font_scale * scale, style.font_thickness)[0][1]
    x, y = float(origin[0]), origin[1]
    thin = max(1, style.bone // 2)
    for text, color, low in items:
        line = np.array([[x, y - em / 2], [x + 3 * em, y - em / 2]])  # (2, 2) pixels
        fixed = _fixed(line)
        _draw_bone(image, line, fixed, (0, 1), color, thin, dashed=low)
        x += 3 * em
        if low:
            _draw_cross(image, _fixed(np.array([x + em, y - em / 2])), em / 2, color, thin)
            x += 2 * em
        x += em
        x += _put_text(image, text, (int(x), y), style, INK, scale) + 3 * em


def _put_text(image: np.ndarray, text: str, origin: tuple[int, int], style: _Style, color, scale: float = 1.0) -> int:
    """Text with its baseline at origin, shrunk when it would run off the image's right edge; returns its width
    in pixels."""
    font_scale = style.font_scale * scale
    room = image.shape[1] - origin[0] - 2
    width = cv2.getTextSize(text, FONT, font_scale, style.font_thickness)[0][0]
    if width > room > 0:
        font_scale, width = font_scale * room / width, room
    cv2.putText(image, text, origin, FONT, font_scale, color, style.font_thickness, cv2.LINE_AA)
    return width


def _title_band(view_side: int) -> int:
    return max(18, round(view_side * 0.075))


def _floor_spacing_mm(slot_half_mm: float) -> tuple[float, int]:
    """Grid spacing (mm) and cells on each side of a person's root: as big as the person's slot allows."""
    spacing = 500.0 if slot_half_mm >= 550.0 else 250.0
    return spacing, max(1, min(2, math.floor(0.92 * slot_half_mm / spacing)))


def _view_scale(poses: list[np.ndarray], area_height: float) -> float:
    """Pixels per mm shared by every view: VIEW_SPAN_MM tall, shrunk only when a pose would leave its view."""
    scale = area_height / VIEW_SPAN_MM
    for pose in poses:
        for azimuth, elevation in VIEWS:
            uv, _ = project_view(pose, azimuth, elevation)
            up, down = np.nanmax(uv[:, 1]), -np.nanmin(uv[:, 1])
            floor_reach = down + 0.2 * VIEW_SPAN_MM * math.sin(math.radians(elevation))
            scale = min(scale, ROOT_LEVEL * area_height / max(up, 1.0), (1 - ROOT_LEVEL) * area_height / floor_reach)
    return scale


def _draw_person_3d(
    panel: np.ndarray,
    pose: np.ndarray,
    low: np.ndarray,
    view: tuple[float, float],
    origin: tuple[float, float],
    scale: float,
    grid: tuple[float, int],
    style: _Style,
) -> None:
    """One root-relative pose (17, 3) mm into one view: floor grid at its lowest joint, shadow, then bones far
    to near (near ones thicker), joints; origin is the root's pixel position."""
    azimuth, elevation = view
    finite = np.isfinite(pose).all(axis=1)

    def to_pixels(points: np.ndarray) -> np.ndarray:
        uv, _ = project_view(points, azimuth, elevation)
        return np.stack([origin[0] + scale * uv[..., 0], origin[1] - scale * uv[..., 1]], axis=-1)

    floor_y = float(np.nanmax(pose[:, 1]))  # y points down: the floor is under the lowest joint
    spacing, cells = grid
    ticks = np.arange(-cells, cells + 1) * spacing
    lo, hi = ticks[0], ticks[-1]
    corners = np.array([[lo, floor_y, lo], [hi, floor_y, lo], [hi, floor_y, hi], [lo, floor_y, hi]])
    cv2.fillConvexPoly(panel, np.array(_fixed(to_pixels(corners)), np.int32), FLOOR, cv2.LINE_AA, SHIFT)
    lines = [[[t, floor_y, lo], [t, floor_y, hi]] for t in ticks] + [
        [[lo, floor_y, t], [hi, floor_y, t]] for t in ticks
    ]
    cv2.polylines(panel, np.array(_fixed(to_pixels(np.array(lines))), np.int32), False, GRID, 1, cv2.LINE_AA, SHIFT)

    pose = np.where(finite[:, None], pose, 0.0)  # missing joints are never drawn; zeros keep the arithmetic finite
    bones = [(i, bone) for i, bone in enumerate(BONES) if finite[bone[0]] and finite[bone[1]]]
    if not bones:
        return
    shadow = pose.copy()
    shadow[:, 1] = floor_y
    shadow_px = np.array(_fixed(to_pixels(shadow)), np.int32)  # (17, 2)
    cv2.polylines(panel, shadow_px[[bone for _, bone in bones]], False, SHADOW, style.bone, cv2.LINE_AA, SHIFT)

    points = to_pixels(pose)
    fixed = _fixed(points)
    _, depth = project_view(pose, azimuth, elevation)
    bone_depth = {i: (depth[a] + depth[b]) / 2 for i, (a, b) in bones}
    for i, bone in sorted(bones, key=lambda item: -bone_depth[item[0]]):
        nearness = float(np.clip(-bone_depth[i] / 1000.0, -1.0, 1.0))  # the root is at depth 0
        width = max(1, round(style.bone * (1.0 + 0.45 * nearness)))
        _draw_bone(panel, points, fixed, bone, BONE_RGB[i], width, dashed=bool(low[bone[0]] or low[bone[1]]))
    for j in sorted(np.flatnonzero(finite), key=lambda j: -depth[j]):
        if low[j]:
            _draw_cross(panel, fixed[j], style.joint_radius * 1.3, JOINT_RGB[j], max(1, style.bone * 2 // 3))
        else:
            _draw_dot(panel, fixed[j], style.joint_radius * 0.8, JOINT_RGB[j], 1)


def _draw_panel(
    panel: np.ndarray, people: list[tuple[DrawnPerson, np.ndarray, np.ndarray]], view_side: int, hidden: int
) -> None:
    """Into panel (H, P, 3), already holding its background: people are (person, its 2D keypoints in output
    pixels, low-score mask)."""
    height, width = panel.shape[:2]
    style = _Style.for_height(height)
    band = _title_band(view_side)
    area = view_side - 2 * band  # a title band above the people, a legend/ruler band below
    if not people:
        for row in range(len(VIEWS)):
            _put_text(panel, "no person found", (view_side // 20, row * view_side + view_side // 2), style, HINT)
        return

    # Left to right as they stand on the frame (root's x, or the mean x when the root is missing).
    def frame_x(item) -> float:
        keypoints = item[1]
        x = keypoints[ROOT, 0] if np.isfinite(keypoints[ROOT, 0]) else np.nanmean(keypoints[:, 0])
        return float(x) if np.isfinite(x) else 0.0

    people = sorted(people, key=frame_x)
    poses = [np.asarray(p.pose_3d_mm, dtype=np.float64).reshape(NUM_JOINTS, 3) for p, _, _ in people]
    poses = [pose - pose[ROOT] for pose in poses]  # (17, 3) each, root at 0
    scale = _view_scale(poses, area)
    slot = width / len(people)
    grid = _floor_spacing_mm(slot / 2 / scale)
    for row, view in enumerate(VIEWS):
        top = row * view_side
        root_y = top + band + ROOT_LEVEL * area
        for k, ((person, _, low), pose) in enumerate(zip(people, poses, strict=True)):
            _draw_person_3d(panel, pose, low, view, ((k + 0.5) * slot, root_y), scale, grid, style)
            if person.track_id is not None:
                tw, th, base, pad = _label_size(f"id {person.track_id}", style)
                anchor = ((k + 0.5) * slot, top + band + th + base + 2 * pad)
                _draw_label(panel, f"id {person.track_id}", anchor, style, (width, height))
        if row == 0:
            note = f"grid {grid[0]:g} mm" + (f"; 3D for {len(people)} of {len(people) + hidden}" if hidden else "")
            _put_text(panel, note, (view_side // 40 + 2, top + view_side - band // 3), style, HINT, 0.8)


@dataclass(frozen=True)
class FrameLayout:
    """Where things go in draw_frame's output: the frame on the left, the 3D panel (views stacked) on the right."""

    height: int  # output height; the frame is resized to it
    frame_width: int  # width of the (resized) frame: columns [0, frame_width)
    view_side: int  # each 3D view is a view_side square; view k spans rows [k * view_side, (k + 1) * view_side)
    panel_width: int  # columns [frame_width, width)

    @property
    def width(self) -> int:
        return self.frame_width + self.panel_width


def frame_layout(frame_height: int, frame_width: int, panel_height: int | None = None) -> FrameLayout:
    """The layout draw_frame uses for a frame of this size (a video writer needs the output size up front).
    The total width is even, as H.264 in yuv420 requires."""
    height = int(panel_height) if panel_height is not None else max(int(frame_height), MIN_HEIGHT)
    if height < 120:
        raise ValueError(f"panel_height must be at least 120 pixels, got {height}")
    shown_width = max(1, round(frame_width * height / frame_height))
    view_side = height // len(VIEWS)
    return FrameLayout(height, shown_width, view_side, view_side + (shown_width + view_side) % 2)


def draw_frame(
    frame_rgb: np.ndarray,
    people: list[DrawnPerson],
    min_score: float = 0.5,
    panel_height: int | None = None,
    max_people_3d: int = MAX_PEOPLE_3D,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The frame with every person's 2D skeleton and id, beside the 3D panel. (H, W, 3) uint8 RGB ->
    (H', W' + P, 3) uint8 RGB.

    H' is `panel_height` (the frame is resized to it, keeping its aspect) or, when None, the frame's own
    height (at least MIN_HEIGHT). The panel is P ~ H'/2 wide: the camera view above the turned view. Only
    the first `max_people_3d` people of the list get 3D (every person is drawn on the frame). The input
    frame is not modified. `out`, an array of the output's shape and type (frame_layout), is drawn into and
    returned instead of a new one: a video writer that reuses one spares the fresh memory each frame.
    """
    frame = np.asarray(frame_rgb)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8 or 0 in frame.shape:
        raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    layout = frame_layout(frame.shape[0], frame.shape[1], panel_height)
    out_h, frame_w, view_side, panel_w = layout.height, layout.frame_width, layout.view_side, layout.panel_width
    zoom = np.array([frame_w / frame.shape[1], out_h / frame.shape[0]])  # (2,) x and y: frame_w is rounded
    shape = (out_h, frame_w + panel_w, 3)
    if out is not None and (out.shape != shape or out.dtype != np.uint8):
        raise ValueError(f"out must be a {shape} uint8 array, got {out.shape} {out.dtype}")
    canvas = np.empty(shape, np.uint8) if out is None else out
    # cv2 draws into these views of the canvas in place (rows with a stride): no copies, and a bone running
    # off the frame is clipped at its edge instead of reaching into the panel.
    shown, panel = canvas[:, :frame_w], canvas[:, frame_w:]
    if (frame_w, out_h) == (frame.shape[1], frame.shape[0]):
        shown[:] = frame
    else:
        # Shrinking by 2 or more needs INTER_AREA's averaging against aliasing; below 2, INTER_LINEAR differs from
        # it by ~0.3 grey levels and costs a seventh (OpenCV's area filter is slow at non-integer factors).
        method = cv2.INTER_AREA if 2 * out_h <= frame.shape[0] else cv2.INTER_LINEAR
        cv2.resize(np.ascontiguousarray(frame), (frame_w, out_h), dst=shown, interpolation=method)

    style = _Style.for_height(out_h)
    drawn = []  # (person, keypoints in output pixels (17, 2), low-score mask (17,))
    for person in people:
        keypoints = np.asarray(person.keypoints_2d, dtype=np.float64).reshape(NUM_JOINTS, 2) * zoom
        if not np.isfinite(keypoints).any():
            continue  # a track absent from this frame
        low = _low_scores(np.asarray(person.scores).reshape(NUM_JOINTS), min_score)
        drawn.append((person, keypoints, low))
        _draw_skeleton_2d(shown, keypoints, low, style)
    for person, keypoints, _ in drawn:
        finite = np.isfinite(keypoints).all(axis=1)
        if person.track_id is not None and finite.any():
            top = keypoints[finite][np.argmin(keypoints[finite][:, 1])]
            _draw_label(shown, f"id {person.track_id}", (top[0], top[1] - style.halo), style, (frame_w, out_h))

    with_3d = [
        (person, keypoints, low)
        for person, keypoints, low in drawn[: max(0, max_people_3d)]
        if np.isfinite(np.asarray(person.pose_3d_mm, dtype=np.float64)[ROOT]).all()
    ]
    hidden = len(drawn) - len(with_3d)
    panel[:] = _panel_background(panel_w, out_h, view_side, min_score)
    _draw_panel(panel, with_3d, view_side, hidden)
    return canvas


def encode_picture(picture_rgb: np.ndarray, suffix: str) -> bytes:
    """(H, W, 3) uint8 RGB -> the bytes of a .png, .jpg or .jpeg file."""
    options = ENCODE_OPTIONS.get(suffix.lower())
    if options is None:
        raise ValueError(f"cannot encode a picture as {suffix!r}: use one of {', '.join(ENCODE_OPTIONS)}")
    ok, data = cv2.imencode(suffix.lower(), cv2.cvtColor(picture_rgb, cv2.COLOR_RGB2BGR), options)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {picture_rgb.shape} picture as {suffix}")
    return data.tobytes()


def write_picture(path: Path, picture_rgb: np.ndarray) -> None:
    """Write a drawn frame as PNG or JPEG (from the suffix), atomically: readers never see half a file."""
    data = encode_picture(picture_rgb, Path(path).suffix)
    atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(data))
