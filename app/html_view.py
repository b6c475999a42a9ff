"""The interactive view: one self-contained HTML page per photo or clip, and a gallery for a batch.

A page shows the photo or frame with its 2D skeletons beside the 3D skeletons, which the reader turns
by dragging (wheel zooms); a clip gets play/pause and a slider over its frames. Everything the page
needs is inside it: frames as downscaled JPEG data URIs, poses as a JSON block, and a small canvas
script (app/html_view.js) drawing the same orthographic view as app.pose_style.project_view. So it
opens offline in any browser, and its Content-Security-Policy allows only its own script (by hash),
its own style and data: images: no request can leave the page, and markup smuggled in through a file
name could not run even if it escaped the escaping.

People are placed in 3D side by side as in the picture: each root-relative pose is shifted by its
root's image position divided by the person's own pixels-per-millimetre scale, which is where a
pinhole camera puts it across and up; the distance from the camera is unknown here and not shown.
"""

import base64
import hashlib
import html
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import numpy as np
from PIL import Image, ImageDraw

from app.clip import Clip, PoseTrack
from app.pose_style import BONE_COLORS, JOINT_COLORS
from lifter.checkpoint import atomic_write_text, check_writable
from lifter.errors import SvmacError
from lifter.skeleton import BONES, JOINT_NAMES

MAX_IMAGE_HEIGHT = 480  # px of an embedded frame: a 100-frame clip stays a few MB
THUMBNAIL_HEIGHT = 160  # px of a gallery thumbnail
JPEG_QUALITY = 80
GRID_MM = 500.0  # floor grid squares of 50 cm: a ruler for the reader
FEET = (JOINT_NAMES.index("RFoot"), JOINT_NAMES.index("LFoot"))

_SCRIPT = resources.files("app").joinpath("html_view.js").read_text(encoding="utf-8")

_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
h1 { font-size: 18px; margin: 0 0 4px; overflow-wrap: anywhere; }
.summary, .help { color: #555; font-size: 13px; margin: 4px 0; }
.panels { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; margin: 12px 0; }
figure { margin: 0; }
figcaption { font-size: 13px; color: #555; margin-top: 4px; }
canvas { display: block; background: #fff; border: 1px solid #ccc; }
#view3d { cursor: grab; touch-action: none; }
#clip-controls { display: flex; align-items: center; gap: 10px; font-size: 13px; }
#clip-controls[hidden] { display: none; }
#frame-slider { width: 420px; max-width: 60vw; }
.left { color: #1f6fd1; font-weight: 600; } .right { color: #f07d12; font-weight: 600; }
"""

_GALLERY_STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
h1 { font-size: 18px; }
ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 14px; }
li { width: 220px; }
a { color: inherit; text-decoration: none; }
img { display: block; max-width: 220px; height: 160px; object-fit: contain; background: #eee; border: 1px solid #ccc; }
.name { font-size: 13px; overflow-wrap: anywhere; margin-top: 4px; }
.note { font-size: 12px; color: #666; }
"""


@dataclass
class HtmlPage:
    """A written page, as the gallery lists it."""

    path: Path
    name: str
    num_frames: int
    num_people: int
    thumbnail_jpeg: bytes  # the (middle) frame with its 2D skeletons, THUMBNAIL_HEIGHT px tall


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _ascii_html(text: str) -> str:
    # Character references for anything beyond ASCII: the file reads the same whatever encoding writes it.
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _script_json(record: dict) -> str:
    """JSON that can sit inside <script type="application/json">: no "<", ">" or "&" can end the element."""
    text = json.dumps(record, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_array(values: np.ndarray, digits: int) -> list:
    """Rounded nested lists with null where a value is not finite (JSON has no NaN)."""
    rounded = np.round(np.asarray(values, dtype=np.float64), digits)
    objects = rounded.astype(object)
    objects[~np.isfinite(rounded)] = None
    return objects.tolist()


def _joint_array(points: np.ndarray, digits: int) -> list:
    """(F, 17, D) -> nested lists with a whole joint null where any of its coordinates is not finite."""
    nested = _json_array(points, digits)
    return [[None if None in joint else joint for joint in frame] for frame in nested]


def _pixels_per_mm(track: PoseTrack) -> float:
    """How many image pixels a millimetre across the person spans: the 2D spread over the 3D (x, y) spread.

    Orthographic on the person, as the lifter's weak-perspective camera is; the median over the track's
    frames keeps one shaky frame from moving the person in the 3D view.
    """
    ratios = []
    for keypoints, pose in zip(track.keypoints_2d, track.pose_3d_mm):  # (17, 2), (17, 3)
        ok = np.isfinite(keypoints).all(axis=1) & np.isfinite(pose).all(axis=1)
        if ok.sum() < 2:
            continue
        spread_2d = np.sum((keypoints[ok] - keypoints[ok].mean(axis=0)) ** 2)
        spread_3d = np.sum((pose[ok, :2] - pose[ok, :2].mean(axis=0)) ** 2)
        if spread_3d > 0:
            ratios.append(np.sqrt(spread_2d / spread_3d))
    return float(np.median(ratios)) if ratios else float("nan")


def place_people(clip: Clip) -> list[np.ndarray]:
    """Each track's pose_3d_mm moved to where its root is seen: list of (F, 17, 3) camera-frame millimetres.

    The root's image offset from the picture's centre, over the person's pixels-per-millimetre, is its
    camera-frame x and y under a pinhole camera; depth stays at the pose's own (root at z = 0).
    """
    centre_px = np.array([clip.width, clip.height], dtype=np.float64) / 2.0
    placed = []
    for track in clip.tracks:
        scale = _pixels_per_mm(track)
        offset = np.zeros((len(track.frames), 3))
        if np.isfinite(scale) and scale > 0:
            offset[:, :2] = (track.keypoints_2d[:, 0] - centre_px) / scale  # (F, 2)
        placed.append(track.pose_3d_mm + np.nan_to_num(offset)[:, None, :])
    return placed


def _view_frame(clip: Clip, placed: list[np.ndarray]) -> tuple[np.ndarray, float, float | None]:
    """Where the 3D view looks in each frame and how far it reaches.

    Returns the centre (num_frames, 3) (mean root of the people present; the last one held where
    nobody is), the radius of a sphere around it holding every joint of every frame, and the floor's
    camera-frame y (the lowest foot over the clip; None without feet).
    """
    roots = np.full((clip.num_frames, len(placed), 3), np.nan)
    for column, (track, points) in enumerate(zip(clip.tracks, placed)):
        roots[track.frames, column] = points[:, 0]
    centre = np.zeros((clip.num_frames, 3))
    last = np.zeros(3)
    for frame in range(clip.num_frames):
        present = np.isfinite(roots[frame]).all(axis=1)
        if present.any():
            last = roots[frame, present].mean(axis=0)
        centre[frame] = last
    radius = 1.0
    feet_y = []
    for track, points in zip(clip.tracks, placed):
        distance = np.linalg.norm(points - centre[track.frames][:, None, :], axis=2)  # (F, 17)
        if np.isfinite(distance).any():
            radius = max(radius, float(np.nanmax(distance)))
        feet_y.append(points[:, FEET, 1].ravel())
    feet = np.concatenate(feet_y) if feet_y else np.empty(0)
    floor_y = float(np.nanmax(feet)) if np.isfinite(feet).any() else None
    return centre, radius * 1.05, floor_y


def _fitted(image: Image.Image, height: int) -> Image.Image:
    if image.height <= height:
        return image
    width = max(1, round(image.width * height / image.height))
    return image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _checked_frame(frame: np.ndarray, index: int, clip: Clip) -> Image.Image:
    frame = np.asarray(frame)
    if frame.shape != (clip.height, clip.width, 3) or frame.dtype != np.uint8:
        raise SvmacError(
            f"{clip.name}: frame {index} is {frame.dtype} {frame.shape}, "
            f"expected uint8 ({clip.height}, {clip.width}, 3)"
        )
    return Image.fromarray(frame)


def gallery_thumbnail(image: Image.Image | None, clip: Clip, frame: int) -> bytes:
    """The frame (or a grey card the clip's shape) with its people's 2D bones, THUMBNAIL_HEIGHT px tall."""
    if image is None:
        width = max(1, round(clip.width * THUMBNAIL_HEIGHT / clip.height))
        thumb = Image.new("RGB", (width, THUMBNAIL_HEIGHT), (238, 238, 238))
    else:
        thumb = _fitted(image, THUMBNAIL_HEIGHT).copy()
    scale = thumb.height / clip.height
    draw = ImageDraw.Draw(thumb)
    for track in clip.tracks:
        rows = np.flatnonzero(track.frames == frame)
        if rows.size == 0:
            continue
        keypoints = track.keypoints_2d[rows[0]] * scale  # (17, 2)
        for (a, b), color in zip(BONES, BONE_COLORS):
            if np.isfinite(keypoints[[a, b]]).all():
                draw.line([tuple(keypoints[a]), tuple(keypoints[b])], fill=color, width=2)
    return _jpeg(thumb)


def _embedded_frames(frames: Iterable[np.ndarray] | None, clip: Clip, max_image_height: int) -> tuple[list[str], bytes]:
    """Frames as JPEG data URIs (streamed: one full-size frame in memory at a time) and the thumbnail."""
    thumb_frame = clip.num_frames // 2
    if frames is None:
        return [], gallery_thumbnail(None, clip, thumb_frame)
    uris: list[str] = []
    thumbnail = None
    for index, frame in enumerate(frames):
        if index >= clip.num_frames:
            raise SvmacError(f"{clip.name}: more frames given than the clip's {clip.num_frames}")
        image = _checked_frame(frame, index, clip)
        uris.append(_data_uri(_jpeg(_fitted(image, max_image_height))))
        if index == thumb_frame:
            thumbnail = gallery_thumbnail(image, clip, thumb_frame)
    if len(uris) != clip.num_frames:
        raise SvmacError(f"{clip.name}: {len(uris)} frames given for a clip of {clip.num_frames}")
    return uris, thumbnail


def page_record(clip: Clip, min_score: float = 0.5) -> dict:
    """What the page's script reads: the clip's people per frame in pixels and placed millimetres."""
    placed = place_people(clip)
    centre, radius, floor_y = _view_frame(clip, placed)
    return {
        "name": clip.name,
        "width": clip.width,
        "height": clip.height,
        "num_frames": clip.num_frames,
        "fps": clip.fps,
        "min_score": min_score,
        "joint_names": list(JOINT_NAMES),
        "bones": [list(bone) for bone in BONES],
        "bone_colors": list(BONE_COLORS),
        "joint_colors": list(JOINT_COLORS),
        "view_centre": _json_array(centre, 1),
        "radius": round(radius, 1),
        "floor_y": None if floor_y is None else round(floor_y, 1),
        "grid_mm": GRID_MM,
        "tracks": [
            {
                "id": int(track.track_id),
                "frames": track.frames.astype(int).tolist(),
                "keypoints": _joint_array(track.keypoints_2d, 1),
                "scores": _json_array(np.where(track.imputed, 0.0, track.scores), 3),
                "pose": _joint_array(points, 1),
            }
            for track, points in zip(clip.tracks, placed)
        ],
    }


def _people_note(num_people: int, num_frames: int) -> str:
    people = f"{num_people} {'person' if num_people == 1 else 'people'}"
    return people if num_frames == 1 else f"{people}, {num_frames} frames"


def _document(title: str, style: str, body: str, script: str | None = None) -> str:
    """A whole page around escaped markup: its policy admits only this style and this script, no request."""
    policy = f"default-src 'none'; img-src data:; style-src {_csp_hash(style)}"
    if script is not None:
        policy += f"; script-src {_csp_hash(script)}"
        body += f"\n<script>{script}</script>"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""
    return _ascii_html(page)


def clip_html(clip: Clip, images: list[str], min_score: float = 0.5) -> str:
    """The page's text: markup with the clip's name escaped, the poses as JSON, the script inlined."""
    record = page_record(clip, min_score)
    record["images"] = images
    name = html.escape(clip.name)
    note = _people_note(len(clip.tracks), clip.num_frames)
    if clip.fps is not None:
        note += f" at {clip.fps:g} frames/s"
    body = f"""<h1>{name}</h1>
<p class="summary">{note}</p>
<div class="panels">
<figure><canvas id="view2d"></canvas><figcaption>2D skeletons on the picture</figcaption></figure>
<figure><canvas id="view3d" aria-label="3D skeletons: drag to turn, wheel to zoom"></canvas>
<figcaption><span id="view-text"></span>
<button id="reset-view" type="button">camera view</button></figcaption></figure>
</div>
<div id="clip-controls"><button id="play" type="button">play</button>
<input id="frame-slider" type="range" min="0" max="0" step="1" value="0" aria-label="frame">
<span id="frame-text"></span></div>
<p class="help">Drag the 3D view to turn it, wheel to zoom, double-click for the camera's view.
The person's <span class="left">left</span> side is blue, <span class="right">right</span> orange;
dashed bones and crossed joints were guessed (detector score below {min_score:g}).
People stand side by side as in the picture; their distance from the camera is not shown.
Floor squares are {GRID_MM / 1000:g} m.</p>
<script type="application/json" id="svmac-data">{_script_json(record)}</script>"""
    return _document(f"{name} - svmac 3D view", _PAGE_STYLE, body, _SCRIPT)


def write_clip_html(
    path: Path,
    clip: Clip,
    frames: Iterable[np.ndarray] | None,
    overwrite: bool = False,
    min_score: float = 0.5,
    max_image_height: int = MAX_IMAGE_HEIGHT,
) -> HtmlPage:
    """Write the clip's page: frames (one RGB uint8 (H, W, 3) per clip frame, streamed) or None (no picture)."""
    path = Path(path)
    check_writable(path, overwrite)
    if clip.num_frames < 1:
        raise SvmacError(f"{clip.name}: the clip has no frames")
    images, thumbnail = _embedded_frames(frames, clip, max_image_height)
    atomic_write_text(path, clip_html(clip, images, min_score))
    return HtmlPage(path, clip.name, clip.num_frames, len(clip.tracks), thumbnail)


def gallery_html(index_dir: Path, pages: Sequence[HtmlPage], title: str) -> str:
    items = []
    for page in pages:
        link = quote(Path(os.path.relpath(Path(page.path).resolve(), index_dir)).as_posix())
        name = html.escape(page.name)
        items.append(
            f'<li><a href="{html.escape(link)}"><img alt="{name}" src="{_data_uri(page.thumbnail_jpeg)}">'
            f'<div class="name">{name}</div>'
            f'<div class="note">{_people_note(page.num_people, page.num_frames)}</div></a></li>'
        )
    title = html.escape(title)
    body = f"<h1>{title}</h1>\n<ul>\n" + "\n".join(items) + "\n</ul>"
    return _document(title, _GALLERY_STYLE, body)


def write_gallery(
    path: Path, pages: Sequence[HtmlPage], title: str = "svmac 3D views", overwrite: bool = False
) -> None:
    """Write index.html for a batch: each page's thumbnail and name, linking to it by a relative address."""
    path = Path(path)
    check_writable(path, overwrite)
    atomic_write_text(path, gallery_html(path.resolve().parent, pages, title))
