"""Figures of the demo: the photo with its 2D skeleton beside the lifted 3D skeleton, and paper-style grids.

Colour convention, the same on the photo and in every 3D panel: the person's left limbs blue, right limbs
orange, spine/head grey. A joint whose detector score is below `min_score` is drawn as an x and its bones
dashed, so a reader knows which parts of the 3D pose rest on a guess.

3D panels are drawn by our own orthographic projection on plain 2D axes rather than with mplot3d: it is
several times faster, gives equal scales on every axis for free (one radius bounds the pose in all views)
and keeps "head up" under our control. Poses are in the camera frame (x right, y down, z away from the
camera); a panel looks at the pose from the photo's camera turned by an azimuth about the vertical axis,
raised by a small elevation so that the ground grid at the feet reads as a floor.

Only matplotlib's object API is used (Figure + FigureCanvasAgg, never pyplot), so rendering holds no
global state and can run in worker threads. Every file is written atomically.
"""

import math
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle
from PIL import Image

from app.pose_style import (
    BONE_COLORS,
    CENTER_COLOR,
    JOINT_COLORS,
    LEFT_COLOR,
    LOW_SCORE_DASH,
    RIGHT_COLOR,
    project_view,
)
from lifter.skeleton import BONES, NUM_JOINTS

FORMATS: dict[str, str] = {".png": "png", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg", ".svg": "svg"}

# zlib level 3 instead of Pillow's 6: a quarter of the PNG time for files about 15 % larger.
SAVE_OPTIONS: dict[str, dict] = {"png": {"pil_kwargs": {"compress_level": 3}}, "jpg": {"pil_kwargs": {"quality": 90}}}

# Panel sizes in inches; the photo is scaled to the height of the 3D panels beside it.
PANEL_IN = 2.6
GRID_PANEL_IN = 2.2
GAP_IN = 0.08
MARGIN_IN = 0.12
HEADER_IN = 0.28
LEGEND_IN = 0.32
ROW_LABEL_IN = 0.28
# Photos are downsampled to this many pixels per displayed pixel before drawing: enough for a sharp
# PDF, and it keeps Agg resampling and PDF image embedding cheap for multi-megapixel photos.
PHOTO_OVERSAMPLE = 2.0

_PHOTO_STROKE = [patheffects.withStroke(linewidth=3.6, foreground="white", alpha=0.85)]


def _finite_array(values: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _optional_scores(scores: np.ndarray | None) -> np.ndarray | None:
    return None if scores is None else _finite_array(scores, (NUM_JOINTS,), "scores")


@dataclass(frozen=True)
class PersonDrawing:
    """One detected person: its 2D joints in the photo, their scores and the lifted 3D pose.

    Arrays are validated and converted to float64 on construction; NaN or inf raise ValueError, because
    a skeleton with holes would be drawn as a plausible but wrong pose.
    """

    keypoints_2d: np.ndarray  # (17, 2) image pixels, x right, y down
    scores: np.ndarray  # (17,) detector confidence in [0, 1]
    pose_3d: np.ndarray  # (17, 3) root-relative camera frame, x right, y down, z away from the camera

    def __post_init__(self) -> None:
        object.__setattr__(self, "keypoints_2d", _finite_array(self.keypoints_2d, (NUM_JOINTS, 2), "keypoints_2d"))
        object.__setattr__(self, "scores", _finite_array(self.scores, (NUM_JOINTS,), "scores"))
        object.__setattr__(self, "pose_3d", _finite_array(self.pose_3d, (NUM_JOINTS, 3), "pose_3d"))


@dataclass(frozen=True)
class GridRow:
    """One row of a paper-style grid: the photo, optionally its 2D skeleton, ground truth and estimate.

    `pose_3d=None` renders the row as "no person found". Ground truth must already be expressed in the
    estimate's frame and scale (e.g. Procrustes-aligned) by the caller; both share one panel scale.
    """

    image_rgb: np.ndarray  # (H, W, 3) or (H, W) photo
    pose_3d: np.ndarray | None  # (17, 3) estimate, camera frame
    label: str = ""
    keypoints_2d: np.ndarray | None = None  # (17, 2) pixels, drawn on the photo when given
    scores: np.ndarray | None = None  # (17,) marks low-confidence joints in 2D and 3D
    gt_3d: np.ndarray | None = None  # (17, 3) ground truth in the estimate's frame

    def __post_init__(self) -> None:
        if self.pose_3d is not None:
            object.__setattr__(self, "pose_3d", _finite_array(self.pose_3d, (NUM_JOINTS, 3), "pose_3d"))
        if self.gt_3d is not None:
            object.__setattr__(self, "gt_3d", _finite_array(self.gt_3d, (NUM_JOINTS, 3), "gt_3d"))
        if self.keypoints_2d is not None:
            object.__setattr__(self, "keypoints_2d", _finite_array(self.keypoints_2d, (NUM_JOINTS, 2), "keypoints_2d"))
        object.__setattr__(self, "scores", _optional_scores(self.scores))


def _view_title(azimuth_deg: float, elevation_deg: float) -> str:
    if elevation_deg >= 60.0:
        return "top view (camera at bottom)"
    az = azimuth_deg % 360.0
    if az == 0.0:
        return "camera view"
    s, c = math.sin(math.radians(az)), math.cos(math.radians(az))
    where = []
    if c < -0.3:
        where.append("behind")
    if s > 0.3:
        where.append("left")
    elif s < -0.3:
        where.append("right")
    hint = f" (camera {'-'.join(where)})" if where else ""
    return f"rotated {azimuth_deg:g}°{hint}"


def _nice_spacing(span: float) -> float:
    # About five grid cells across the panel, at a 1/2/5 x 10^k spacing a reader can use as a ruler.
    raw = span / 5.0
    power = 10.0 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 5.0, 10.0):
        if raw <= step * power * 1.0001:
            return step * power
    return 10.0 * power


def _pose_radius(pose: np.ndarray) -> tuple[np.ndarray, float]:
    """(17, 3) -> centre of its bounding box (3,) and the radius of a sphere around it holding every joint."""
    centre = (pose.min(axis=0) + pose.max(axis=0)) / 2.0
    radius = float(np.linalg.norm(pose - centre, axis=1).max())
    return centre, max(radius, 1e-6)


def _low_mask(scores: np.ndarray | None, min_score: float) -> np.ndarray:
    return np.zeros(NUM_JOINTS, dtype=bool) if scores is None else scores < min_score


def _bone_styles(low: np.ndarray) -> list:
    return [LOW_SCORE_DASH if (low[a] or low[b]) else "solid" for a, b in BONES]


def _write_atomically(fig: Figure, out_path: Path, dpi: int) -> None:
    """Render to a hidden temporary file beside out_path, then os.replace it: readers never see half a file."""
    out_path = Path(out_path)
    fmt = FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{out_path}: unsupported figure format, use one of {', '.join(sorted(FORMATS))}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Our own unique name opened with "xb" (not mkstemp) so the result gets the umask's usual permissions.
    tmp_path = out_path.with_name(f".{out_path.stem}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp{out_path.suffix}")
    try:
        with open(tmp_path, "xb") as handle:
            fig.savefig(handle, format=fmt, dpi=dpi, facecolor="white", **SAVE_OPTIONS.get(fmt, {}))
        os.replace(tmp_path, out_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _check_formats(out_paths: Sequence[Path]) -> None:
    # Fail before spending time on rendering.
    for path in out_paths:
        if Path(path).suffix.lower() not in FORMATS:
            raise ValueError(f"{path}: unsupported figure format, use one of {', '.join(sorted(FORMATS))}")


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4), uint8 or float in [0, 1] -> (H, W, 3) uint8."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    image = image[..., :3]
    if image.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(image.dtype, np.floating) else 1.0
        image = np.clip(np.nan_to_num(image.astype(np.float64) * scale) + 0.5, 0, 255).astype(np.uint8)
    return image


def _crop_window(
    image_shape: tuple[int, ...], keypoint_sets: Sequence[np.ndarray], aspect: float
) -> tuple[int, int, int, int]:
    """Pixel window (x0, x1, y0, y1) around all people, padded and widened towards `aspect` (width/height).

    Without keypoints it is the whole image. The window never leaves the image, so it may end up
    narrower than `aspect` asks.
    """
    height, width = image_shape[:2]
    if not keypoint_sets:
        return 0, width, 0, height
    points = np.concatenate(keypoint_sets)  # (17 * people, 2)
    points = np.clip(points, [0, 0], [width, height])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.2 * float(max(hi - lo)) + 8.0
    lo, hi = lo - pad, hi + pad
    size = hi - lo
    if size[0] < size[1] * aspect:
        size[0] = size[1] * aspect
    else:
        size[1] = size[0] / aspect
    size = np.minimum(size, [width, height])
    centre = (lo + hi) / 2.0
    start = np.clip(centre - size / 2.0, 0, np.array([width, height]) - size)
    x0, y0 = (int(math.floor(v)) for v in start)
    x1, y1 = (int(math.ceil(v)) for v in start + size)
    return x0, min(x1, width), y0, min(y1, height)


def _draw_photo(
    ax: Axes, image: np.ndarray, window: tuple[int, int, int, int], box_in: tuple[float, float], dpi: int
) -> None:
    """Show the window (x0, x1, y0, y1) of the photo in original pixel coordinates, so 2D joints need no
    conversion, downsampled to what the axes box can display."""
    x0, x1, y0, y1 = window
    shown = image[y0:y1, x0:x1]
    height, width = shown.shape[:2]
    fit = min(box_in[0] / width, box_in[1] / height) * dpi * PHOTO_OVERSAMPLE
    if fit < 1.0:
        size = (max(1, round(width * fit)), max(1, round(height * fit)))
        shown = np.asarray(
            Image.fromarray(np.ascontiguousarray(shown)).resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
        )
    ax.imshow(shown, extent=(x0, x1, y1, y0), interpolation="antialiased")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.set_axis_off()


def _panel_title(ax: Axes, text: str, fontsize: float) -> None:
    # A plain annotation: Axes.set_title re-measures the whole axes (ticks included) on every draw.
    ax.annotate(
        text,
        xy=(0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=fontsize,
        annotation_clip=False,
    )


def _draw_skeleton_2d(ax: Axes, keypoints: np.ndarray, scores: np.ndarray | None, min_score: float) -> None:
    """(17, 2) pixel joints on the photo; a white halo keeps the colours readable on any background."""
    low = _low_mask(scores, min_score)
    segments = keypoints[np.array(BONES)]  # (16, 2, 2)
    bones = LineCollection(
        segments, colors=BONE_COLORS, linewidths=2.0, linestyles=_bone_styles(low), capstyle="round", zorder=3
    )
    bones.set_path_effects(_PHOTO_STROKE)
    ax.add_collection(bones, autolim=False)
    colors = np.array(JOINT_COLORS)
    ax.scatter(*keypoints[~low].T, s=14, c=colors[~low], edgecolors="white", linewidths=0.6, zorder=4, clip_on=True)
    if low.any():
        marks = ax.scatter(*keypoints[low].T, s=36, c=colors[low], marker="x", linewidths=1.6, zorder=4)
        marks.set_path_effects(_PHOTO_STROKE)


def _label_person(ax: Axes, keypoints: np.ndarray, number: int) -> None:
    top = keypoints[np.argmin(keypoints[:, 1])]
    ax.annotate(
        str(number),
        xy=(top[0], top[1]),
        xytext=(0, 7),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        color="black",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.3", "lw": 0.6, "alpha": 0.9},
        annotation_clip=False,
        zorder=5,
    )


def _draw_pose_3d(
    ax: Axes,
    pose: np.ndarray,
    scores: np.ndarray | None,
    min_score: float,
    azimuth_deg: float,
    elevation_deg: float,
    radius: float,
    grid_label: str | None,
) -> None:
    """One 3D panel: ground grid at the lowest joint, the pose's shadow on it, then the skeleton.

    `radius` bounds the pose around its box centre in every view, so panels sharing it share one scale.
    """
    centre, _ = _pose_radius(pose)
    floor_y = float(pose[:, 1].max())  # y points down: the ground is under the lowest joint

    (centre_uv,), _ = project_view(centre[None], azimuth_deg, elevation_deg)
    half = 1.08 * radius
    ax.set_xlim(centre_uv[0] - half, centre_uv[0] + half)
    ax.set_ylim(centre_uv[1] - half, centre_uv[1] + half)
    ax.set_aspect("equal", adjustable="box")
    # Axis off plus our own frame: tick machinery is most of matplotlib's per-axes cost, and these
    # panels have no meaningful ticks (the grid spacing label is the ruler).
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fc="none", ec="0.8", lw=0.8, clip_on=False))

    # Ground: a shaded square of grid lines on the plane y = floor_y, centred under the pose.
    spacing = _nice_spacing(2.0 * radius)
    n_cells = math.ceil(1.5 * radius / spacing)
    ticks = np.arange(-n_cells, n_cells + 1) * spacing
    lo, hi = ticks[0], ticks[-1]
    cx, cz = round(centre[0] / spacing) * spacing, round(centre[2] / spacing) * spacing
    lines = []
    for t in ticks:
        lines.append([[cx + t, floor_y, cz + lo], [cx + t, floor_y, cz + hi]])
        lines.append([[cx + lo, floor_y, cz + t], [cx + hi, floor_y, cz + t]])
    grid_uv, _ = project_view(np.array(lines), azimuth_deg, elevation_deg)  # (L, 2, 2)
    corners = np.array([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    floor_3d = np.stack([cx + corners[:, 0], np.full(4, floor_y), cz + corners[:, 1]], axis=1)
    floor_uv, _ = project_view(floor_3d, azimuth_deg, elevation_deg)
    ax.add_patch(Polygon(floor_uv, closed=True, fc="0.93", ec="none", zorder=0))
    ax.add_collection(LineCollection(grid_uv, colors="0.78", linewidths=0.6, zorder=1), autolim=False)

    bones = np.array(BONES)
    low = _low_mask(scores, min_score)
    styles = _bone_styles(low)

    if elevation_deg < 60.0:
        # The pose's shadow straight down on the floor: shows depth even in the camera view.
        shadow = pose.copy()
        shadow[:, 1] = floor_y
        shadow_uv, _ = project_view(shadow, azimuth_deg, elevation_deg)
        ax.add_collection(
            LineCollection(shadow_uv[bones], colors="0.55", alpha=0.45, linewidths=2.0, capstyle="round", zorder=2),
            autolim=False,
        )

    uv, depth = project_view(pose, azimuth_deg, elevation_deg)
    _, centre_depth = project_view(centre, azimuth_deg, elevation_deg)
    # Far bones first and thinner, near bones on top and thicker: a cheap depth cue for an orthographic view.
    bone_depth = depth[bones].mean(axis=1)
    order = np.argsort(-bone_depth)
    nearness = np.clip(-(bone_depth - centre_depth) / radius, -1.0, 1.0)
    ax.add_collection(
        LineCollection(
            uv[bones][order],
            colors=[BONE_COLORS[i] for i in order],
            linewidths=(2.2 * (1.0 + 0.45 * nearness))[order],
            linestyles=[styles[i] for i in order],
            capstyle="round",
            zorder=3,
        ),
        autolim=False,
    )
    colors = np.array(JOINT_COLORS)
    ok = np.flatnonzero(~low)
    ok = ok[np.argsort(-depth[ok])]
    ax.scatter(*uv[ok].T, s=10, c=colors[ok], edgecolors="white", linewidths=0.4, zorder=4)
    if low.any():
        ax.scatter(*uv[low].T, s=28, c=colors[low], marker="x", linewidths=1.4, zorder=4)
    if grid_label is not None:
        ax.text(
            0.98,
            0.02,
            f"grid {spacing:g} {grid_label}".rstrip(),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6.5,
            color="0.45",
            zorder=6,
        )


def _legend_handles(min_score: float, with_low: bool) -> list[Line2D]:
    handles = [
        Line2D([], [], color=LEFT_COLOR, lw=2.5, label="left"),
        Line2D([], [], color=RIGHT_COLOR, lw=2.5, label="right"),
        Line2D([], [], color=CENTER_COLOR, lw=2.5, label="spine / head"),
    ]
    if with_low:
        handles.append(
            Line2D([], [], color="0.3", lw=1.5, ls=LOW_SCORE_DASH, marker="x", ms=6, label=f"score < {min_score:g}")
        )
    return handles


def _add_legend(fig: Figure, min_score: float, with_low: bool, fig_width_in: float) -> None:
    fig.legend(
        handles=_legend_handles(min_score, with_low),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=4,
        frameon=False,
        fontsize=8,
        handlelength=2.2,
        columnspacing=1.2 if fig_width_in > 4.5 else 0.6,
        borderaxespad=0.2,
    )


class _Layout:
    """Places axes by inches from the top-left corner, so the figure size follows the content."""

    def __init__(self, fig: Figure, width_in: float, height_in: float) -> None:
        self.fig, self.width, self.height = fig, width_in, height_in
        fig.set_size_inches(width_in, height_in)

    def axes(self, left: float, top: float, width: float, height: float) -> Axes:
        rect = (left / self.width, 1.0 - (top + height) / self.height, width / self.width, height / self.height)
        return self.fig.add_axes(rect)


def _new_figure() -> Figure:
    fig = Figure()
    FigureCanvasAgg(fig)
    return fig


def _photo_width(window: tuple[int, int, int, int], height_in: float) -> float:
    # Very wide or tall photos are letterboxed rather than squeezing the 3D panels.
    aspect = (window[1] - window[0]) / (window[3] - window[2])
    return height_in * min(max(aspect, 0.5), 2.0)


def render_pose_figure(
    image_rgb: np.ndarray,
    people: Sequence[PersonDrawing],
    out_path: Path,
    *,
    min_score: float = 0.5,
    rotated_views_deg: Sequence[float] = (90.0,),
    title: str | None = None,
    dpi: int = 100,
    elevation_deg: float = 10.0,
    top_view: bool = False,
    max_people_3d: int = 4,
    unit: str = "",
    crop_to_people: bool = False,
) -> None:
    """Write the demo figure for one photo to out_path (format from its suffix: .png .pdf .jpg .svg).

    Left: the photo with every person's 2D skeleton (numbered when there are several). Right: one row per
    person, in the given order, with the 3D pose from the photo's camera, from each azimuth in
    `rotated_views_deg` and optionally from above. Only the first `max_people_3d` people get 3D rows (a
    crowd would make the panels unreadable); the rest are drawn on the photo only and the figure says so.
    `people=[]` renders the photo with a "no person found" note. `unit` names the 3D units for the grid
    spacing label ("mm", "m"; empty for the lifter's normalised units). `crop_to_people` shows only the part
    of the photo around the people (useful when they are small in it). Raises ValueError for an
    unsupported suffix or a bad image; PersonDrawing already rejects non-finite poses.
    """
    out_path = Path(out_path)
    _check_formats([out_path])
    image = _as_rgb(image_rgb)
    shown = list(people)[: max(0, max_people_3d)]
    views = [(0.0, elevation_deg)] + [(float(a), elevation_deg) for a in rotated_views_deg]
    if top_view:
        views.append((0.0, 90.0))

    panel = PANEL_IN if len(shown) <= 1 else 2.2
    rows = max(1, len(shown))
    body_h = panel * rows + GAP_IN * (rows - 1) if shown else 4.0
    keypoint_sets = [p.keypoints_2d for p in people] if crop_to_people else []
    window = _crop_window(image.shape, keypoint_sets, aspect=0.8)
    photo_w = _photo_width(window, body_h)
    header = HEADER_IN + (0.3 if title else 0.0)
    label_w = ROW_LABEL_IN if len(shown) > 1 else 0.0
    width = 2 * MARGIN_IN + photo_w + (GAP_IN + label_w + len(views) * (panel + GAP_IN) if shown else 0.0)
    height = header + body_h + (LEGEND_IN if people else MARGIN_IN)

    fig = _new_figure()
    layout = _Layout(fig, width, height)
    photo_ax = layout.axes(MARGIN_IN, header, photo_w, body_h)
    _draw_photo(photo_ax, image, window, (photo_w, body_h), dpi)
    _panel_title(photo_ax, "photo", 9)
    for number, person in enumerate(people, start=1):
        _draw_skeleton_2d(photo_ax, person.keypoints_2d, person.scores, min_score)
        if len(people) > 1:
            _label_person(photo_ax, person.keypoints_2d, number)
    if not people:
        photo_ax.text(
            0.5,
            0.04,
            "no person found",
            transform=photo_ax.transAxes,
            ha="center",
            va="bottom",
            fontsize=10,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.4", "alpha": 0.9},
        )
    elif len(people) > len(shown):
        photo_ax.text(
            0.5,
            0.02,
            f"3D shown for persons 1-{len(shown)} of {len(people)}",
            transform=photo_ax.transAxes,
            ha="center",
            va="bottom",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.4", "alpha": 0.9},
        )

    left0 = MARGIN_IN + photo_w + GAP_IN + label_w
    for row, person in enumerate(shown):
        _, radius = _pose_radius(person.pose_3d)
        top = header + row * (panel + GAP_IN)
        for col, (azimuth, elevation) in enumerate(views):
            ax = layout.axes(left0 + col * (panel + GAP_IN), top, panel, panel)
            _draw_pose_3d(
                ax, person.pose_3d, person.scores, min_score, azimuth, elevation, radius, unit if col == 0 else None
            )
            if row == 0:
                _panel_title(ax, _view_title(azimuth, elevation), 9)
        if len(shown) > 1:
            fig.text(
                (left0 - 0.06) / width,
                1.0 - (top + panel / 2) / height,
                f"person {row + 1}",
                rotation=90,
                ha="right",
                va="center",
                fontsize=9,
            )
    if title:
        fig.suptitle(title, y=1.0 - 0.06 / height, va="top", fontsize=11)
    if people:
        _add_legend(fig, min_score, any(bool((p.scores < min_score).any()) for p in people), width)
    _write_atomically(fig, out_path, dpi)


def render_grid(
    rows: Sequence[GridRow],
    out_paths: Sequence[Path],
    *,
    min_score: float = 0.5,
    rotated_views_deg: Sequence[float] = (90.0,),
    title: str | None = None,
    dpi: int = 100,
    elevation_deg: float = 10.0,
    unit: str = "",
    crop_to_people: bool = True,
) -> None:
    """Write one paper-style grid figure to every path in out_paths (e.g. fig.png and fig.pdf).

    One row per GridRow: photo (with its 2D skeleton when given) | for the camera view and each azimuth in
    `rotated_views_deg`: ground truth (only when some row has it, the paper's Figure 4) and estimate, both
    from the same viewpoint and at one scale per row. Without any ground truth this is the in-the-wild
    layout of Figures 5-6: photo with 2D | estimated 3D views. `crop_to_people` (default) shows a square
    window of each photo around its 2D skeleton, as the paper's figures do; rows without 2D show the whole
    photo. The figure is rendered once and saved in each format.
    """
    if not rows:
        raise ValueError("render_grid needs at least one row")
    if not out_paths:
        raise ValueError("render_grid needs at least one output path")
    _check_formats(out_paths)
    images = [_as_rgb(r.image_rgb) for r in rows]
    has_gt = any(r.gt_3d is not None for r in rows)
    views = [0.0] + [float(a) for a in rotated_views_deg]
    kinds = (["gt"] if has_gt else []) + ["est"]
    columns = [(kind, azimuth) for azimuth in views for kind in kinds]

    panel = GRID_PANEL_IN
    if crop_to_people:
        photo_w = panel
        windows = [
            _crop_window(img.shape, [] if r.keypoints_2d is None else [r.keypoints_2d], 1.0)
            for r, img in zip(rows, images, strict=True)
        ]
    else:
        windows = [(0, img.shape[1], 0, img.shape[0]) for img in images]
        aspects = sorted(img.shape[1] / img.shape[0] for img in images)
        photo_w = panel * min(max(aspects[len(aspects) // 2], 0.6), 1.6)
    label_w = ROW_LABEL_IN if any(r.label for r in rows) else 0.0
    header = HEADER_IN + 0.12 + (0.3 if title else 0.0)
    width = 2 * MARGIN_IN + label_w + photo_w + len(columns) * (panel + GAP_IN)
    height = header + len(rows) * (panel + GAP_IN) + LEGEND_IN

    fig = _new_figure()
    layout = _Layout(fig, width, height)
    for r, (row, image, window) in enumerate(zip(rows, images, windows, strict=True)):
        top = header + r * (panel + GAP_IN)
        photo_ax = layout.axes(MARGIN_IN + label_w, top, photo_w, panel)
        _draw_photo(photo_ax, image, window, (photo_w, panel), dpi)
        if row.keypoints_2d is not None:
            _draw_skeleton_2d(photo_ax, row.keypoints_2d, row.scores, min_score)
        if row.label:
            fig.text(
                (MARGIN_IN + label_w - 0.06) / width,
                1.0 - (top + panel / 2) / height,
                row.label,
                rotation=90,
                ha="right",
                va="center",
                fontsize=8.5,
            )
        if r == 0:
            _panel_title(photo_ax, "photo", 9)
        poses = [p for p in (row.pose_3d, row.gt_3d) if p is not None]
        radius = max((_pose_radius(p)[1] for p in poses), default=1.0)
        for c, (kind, azimuth) in enumerate(columns):
            ax = layout.axes(MARGIN_IN + label_w + photo_w + GAP_IN + c * (panel + GAP_IN), top, panel, panel)
            if r == 0:
                name = "ground truth" if kind == "gt" else "estimate"
                _panel_title(ax, f"{name}\n{_view_title(azimuth, elevation_deg)}", 8.5)
            pose = row.gt_3d if kind == "gt" else row.pose_3d
            if pose is None:
                ax.set_axis_off()
                note = "no ground truth" if kind == "gt" else "no person found"
                ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.4")
                continue
            scores = row.scores if kind == "est" else None
            _draw_pose_3d(ax, pose, scores, min_score, azimuth, elevation_deg, radius, unit if c == 0 else None)
    if title:
        fig.suptitle(title, y=1.0 - 0.06 / height, va="top", fontsize=11)
    with_low = any(r.scores is not None and bool((r.scores < min_score).any()) for r in rows)
    _add_legend(fig, min_score, with_low, width)
    for path in out_paths:
        _write_atomically(fig, Path(path), dpi)
