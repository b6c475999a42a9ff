"""A clip's motion outputs per track, for svmac-demo: joint angles always, the world frame and one
BVH file per track when asked (docs/motion_outputs.md). Photos are one-frame clips.

The library modules (app.angles, app.world, app.bvh) do the work; this module decides, once per
clip, which of them run, so the JSON, the CSV and the BVH files all describe the same numbers.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.angles import ANGLE_NAMES
from app.bvh import BvhSummary, write_bvh
from app.clip import Clip
from app.table import track_angles
from app.world import WorldFrame, WorldTrack, clip_to_world


@dataclass(frozen=True)
class MotionOptions:
    world: WorldFrame | None = None  # None: no world frame
    min_score: float = 0.5  # limbs below it keep their last good rotation in the BVH


@dataclass
class TrackMotion:
    """One track's motion outputs, row for row with its PoseTrack's arrays."""

    angles_deg: np.ndarray  # (F, len(ANGLE_NAMES)) degrees, NaN where undefined
    world: WorldTrack | None = None
    bvh: BvhSummary | None = None

    def angles_record(self, row: int) -> dict[str, float | None]:
        """The angles of one row as JSON values (null where undefined), 0.01 degree."""
        return {
            name: round(float(value), 2) if np.isfinite(value) else None
            for name, value in zip(ANGLE_NAMES, self.angles_deg[row])
        }


def clip_motion(
    clip: Clip, options: MotionOptions, bvh_path: Callable[[int], Path] | None = None
) -> dict[int, TrackMotion]:
    """Angles (and world frames, and with bvh_path a BVH file per track at bvh_path(track_id)) of
    every track, by id.

    With a world frame the angles' trunk lean uses the world's vertical, as app.table does, and the
    BVH files are in the world frame (floor at y = 0, the root's path); the BVH files replace what
    is there: the caller has checked that it may write them."""
    worlds = clip_to_world(clip, options.world) if options.world is not None else {}
    motions = {}
    for track in clip.tracks:
        world = worlds.get(track.track_id)
        bvh = None
        if bvh_path is not None:
            bvh = write_bvh(
                bvh_path(track.track_id), track, clip.fps, overwrite=True, min_score=options.min_score, world=world
            )
        motions[track.track_id] = TrackMotion(track_angles(track, world), world, bvh)
    return motions


def worlds_of(motions: dict[int, TrackMotion]) -> dict[int, WorldTrack] | None:
    """The world frames by track id, as app.table.write_csv takes them (None without a world frame)."""
    worlds = {track_id: motion.world for track_id, motion in motions.items() if motion.world is not None}
    return worlds or None
