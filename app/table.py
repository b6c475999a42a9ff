"""A CSV table of people through clips or photos: one row per frame (or photo) and person.

Columns, in order (docs/motion_outputs.md):
- `source` (the clip's or photo's name), `frame` (index in the clip; 0 for a photo), `time_s`
  (seconds from the clip's start; empty for a photo), `track_id`, `detection_score` (empty
  when the detector gives none);
- per joint J of CSV_JOINT_NAMES: `J_x`, `J_y`, `J_z` the 3D joint in millimetres, root-relative,
  camera frame (x right, y down, z away: `pose_3d_mm`); `J_u`, `J_v` its 2D position in pixels;
  `J_score` the detector's confidence (0 for a filled-in joint);
- the joint angles of app.angles.ANGLE_NAMES, in degrees (empty where undefined);
- with a world frame (app.world): `J_world_x`, `J_world_y`, `J_world_z` in metres, Y up, floor
  at y = 0; empty for a track that was not placed.
Numbers are written with 6 significant digits. The writer replaces the file atomically; whether
an existing file may be replaced is the caller's check (lifter.checkpoint.check_writable).
"""

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from app.angles import ANGLE_NAMES, CAMERA_UP, WORLD_UP, joint_angles
from app.clip import Clip, PoseTrack
from app.world import WorldTrack
from lifter.checkpoint import atomic_write
from lifter.skeleton import JOINT_NAMES

# Joint names as column stems: letters and digits only ("Neck/Nose" -> "NeckNose").
CSV_JOINT_NAMES: tuple[str, ...] = tuple(re.sub(r"[^A-Za-z0-9]", "", name) for name in JOINT_NAMES)
INFO_COLUMNS = ("source", "frame", "time_s", "track_id", "detection_score")


def csv_columns(with_world: bool) -> list[str]:
    """The header, in the module docstring's order."""
    columns = list(INFO_COLUMNS)
    columns += [f"{joint}_{axis}" for joint in CSV_JOINT_NAMES for axis in "xyz"]
    columns += [f"{joint}_{axis}" for joint in CSV_JOINT_NAMES for axis in "uv"]
    columns += [f"{joint}_score" for joint in CSV_JOINT_NAMES]
    columns += list(ANGLE_NAMES)
    if with_world:
        columns += [f"{joint}_world_{axis}" for joint in CSV_JOINT_NAMES for axis in "xyz"]
    return columns


def cell(value: float) -> str:
    """One number as text; NaN (undefined) as an empty cell."""
    return "" if not np.isfinite(value) else f"{value:.6g}"


def track_angles(track: PoseTrack, world: WorldTrack | None) -> np.ndarray:
    """(F, len(ANGLE_NAMES)) degrees. Body angles are the same in either frame; trunk lean needs
    the vertical, which the world frame knows and the camera frame assumes (a level camera)."""
    angles = joint_angles(track.pose_3d_mm, CAMERA_UP) if world is None else joint_angles(world.joints_m, WORLD_UP)
    return np.stack([angles[name] for name in ANGLE_NAMES], axis=-1)


def clip_rows(clip: Clip, worlds: dict[int, WorldTrack] | None, with_world: bool) -> Iterator[list[str]]:
    """The clip's rows sorted by frame, then track id."""
    times = clip.frame_times()
    rows = []
    for track in clip.tracks:
        world = (worlds or {}).get(track.track_id)
        angles = track_angles(track, world)
        for i, frame in enumerate(track.frames):
            score = track.detection_score[i] if track.detection_score is not None else np.nan
            time_s = "" if clip.is_photo else cell(times[frame])
            values = [track.pose_3d_mm[i].ravel(), track.keypoints_2d[i].ravel(), track.scores[i], angles[i]]
            if with_world:
                values.append(world.joints_m[i].ravel() if world is not None else np.full(17 * 3, np.nan))
            numbers = [cell(v) for v in np.concatenate(values)]
            info = [clip.name, str(frame), time_s, str(track.track_id), cell(score)]
            rows.append((int(frame), track.track_id, info + numbers))
    for _, _, row in sorted(rows, key=lambda entry: entry[:2]):
        yield row


def write_csv(
    path: Path,
    clips: Clip | Sequence[Clip],
    worlds: dict[int, WorldTrack] | Sequence[dict[int, WorldTrack] | None] | None = None,
) -> int:
    """Write the table of one clip (or of a batch of photos/clips, in order) to path; returns the
    number of rows. worlds: app.world results by track id, one dict per clip (a single dict for a
    single clip), to add the world columns."""
    if isinstance(clips, Clip):
        clips, worlds = [clips], [worlds]
    worlds = list(worlds) if worlds is not None else [None] * len(clips)
    if len(worlds) != len(clips):
        raise ValueError(f"{len(worlds)} world frames for {len(clips)} clips")
    with_world = any(world for world in worlds)
    count = 0

    def write(tmp: str) -> None:
        nonlocal count
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_columns(with_world))
            for clip, world in zip(clips, worlds):
                for row in clip_rows(clip, world, with_world):
                    writer.writerow(row)
                    count += 1

    atomic_write(Path(path), write)
    return count
