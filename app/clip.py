"""People through time: the per-frame, per-track structure every output is built from.

A video gives a clip of many frames whose people are tracked; a photo is a one-frame clip with
one track per person (track id = the person's rank in the image). Exporters (JSON, NPZ, CSV,
BVH, world frame, joint angles, HTML) take a `Clip` and never need to know which it came from.
"""

from dataclasses import dataclass, field

import numpy as np

from lifter.skeleton import NUM_JOINTS


@dataclass
class PoseTrack:
    """One person through a clip: arrays over the F frames where the track is present."""

    track_id: int
    frames: np.ndarray  # (F,) int64, increasing indices into the clip's frames
    bbox: np.ndarray  # (F, 4) pixels x0, y0, x1, y1
    keypoints_2d: np.ndarray  # (F, 17, 2) pixels, H36M-17 (after smoothing, when the clip was smoothed)
    scores: np.ndarray  # (F, 17) detector confidence in [0, 1]; 0 for filled-in joints
    imputed: np.ndarray  # (F, 17) bool: joint filled from the body template, not observed
    pose_3d: np.ndarray  # (F, 17, 3) root-relative camera frame, normalised units (docs/output_format.md)
    pose_3d_mm: np.ndarray  # (F, 17, 3) the same, scaled by the bone-length prior to millimetres
    camera: np.ndarray  # (F, 2, 3) estimated weak-perspective camera K
    detection_score: np.ndarray | None = None  # (F,) the person detector's score, when it has one
    # What the detector itself returned, kept for the JSON output (None when not recorded):
    keypoint_format: str | None = None  # the detector's keypoint format (detector_adapters.base.KEYPOINT_FORMATS)
    detector_keypoints: np.ndarray | None = None  # (F, K, 2) pixels; NaN where the source had no position
    detector_scores: np.ndarray | None = None  # (F, K)
    detector_pose_3d_m: np.ndarray | None = None  # (F, 17, 3) the detector's own root-relative 3D, metres

    def __post_init__(self) -> None:
        count = len(self.frames)
        expected = {
            "bbox": (count, 4),
            "keypoints_2d": (count, NUM_JOINTS, 2),
            "scores": (count, NUM_JOINTS),
            "imputed": (count, NUM_JOINTS),
            "pose_3d": (count, NUM_JOINTS, 3),
            "pose_3d_mm": (count, NUM_JOINTS, 3),
            "camera": (count, 2, 3),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"track {self.track_id}: {name} must be {shape}, got {getattr(self, name).shape}")
        if count and np.any(np.diff(self.frames) <= 0):
            raise ValueError(f"track {self.track_id}: frame indices must increase")


@dataclass
class Clip:
    """Everything lifted from one video, folder of frames, or photo."""

    name: str  # how the source is named in outputs and messages
    width: int  # frame size in pixels
    height: int
    num_frames: int
    fps: float | None  # None for a photo
    tracks: list[PoseTrack] = field(default_factory=list)
    times: np.ndarray | None = None  # (num_frames,) seconds, the file's own timestamps; None: index / fps

    @property
    def is_photo(self) -> bool:
        return self.fps is None

    def frame_times(self) -> np.ndarray:
        """(num_frames,) seconds from the clip's start (zeros for a photo)."""
        if self.fps is None:
            return np.zeros(self.num_frames)
        if self.times is not None:  # a variable frame rate: the file's timestamps, not a guess
            return np.asarray(self.times, np.float64)
        return np.arange(self.num_frames) / self.fps

    def rows_by_frame(self) -> list[list[tuple[int, int]]]:
        """Per frame, the (track column, row in that track's arrays) of every person present."""
        rows: list[list[tuple[int, int]]] = [[] for _ in range(self.num_frames)]
        for column, track in enumerate(self.tracks):
            for row, frame in enumerate(track.frames):
                rows[frame].append((column, row))
        return rows

    def dense(self, name: str) -> np.ndarray:
        """A track field as one (num_frames, num_tracks, ...) float array, NaN where a track is absent."""
        if not self.tracks:
            raise ValueError("the clip has no tracks")
        sample = getattr(self.tracks[0], name)
        out = np.full((self.num_frames, len(self.tracks), *sample.shape[1:]), np.nan)
        for column, track in enumerate(self.tracks):
            out[track.frames, column] = getattr(track, name)
        return out


def photo_clip(name: str, width: int, height: int, people: list) -> Clip:
    """A photo's lifted people (app.pipeline.LiftedPerson) as a one-frame clip, one track each."""
    tracks = []
    for track_id, person in enumerate(people):
        tracks.append(
            PoseTrack(
                track_id=track_id,
                frames=np.zeros(1, np.int64),
                bbox=np.asarray(person.detection.bbox, np.float64)[None],
                keypoints_2d=person.keypoints_2d[None],
                scores=person.scores[None],
                imputed=person.imputed[None],
                pose_3d=person.pose_3d[None],
                pose_3d_mm=person.pose_3d_mm[None],
                camera=person.camera[None],
                detection_score=None if person.detection.score is None else np.array([person.detection.score]),
                keypoint_format=person.detection.keypoint_format,
                detector_keypoints=np.asarray(person.detection.keypoints, np.float64)[None],
                detector_scores=np.asarray(person.detection.scores, np.float64)[None],
                detector_pose_3d_m=None if person.detector_pose_3d is None else person.detector_pose_3d[None],
            )
        )
    return Clip(name=name, width=width, height=height, num_frames=1, fps=None, tracks=tracks)
