"""The svmac-pose JSON and NPZ outputs of photos and clips (docs/output_format.md, schema
docs/svmac-pose-2.schema.json)."""

import importlib.metadata
import json
from pathlib import Path

import numpy as np

from app.clip import Clip, PoseTrack, photo_clip
from app.motion import TrackMotion
from app.pipeline import ImageResult, Lifter, LiftedPerson
from lifter.checkpoint import atomic_write, atomic_write_text
from lifter.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

FORMAT_NAME = "svmac-pose"
FORMAT_VERSION = 2
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / f"{FORMAT_NAME}-{FORMAT_VERSION}.schema.json"
DETECTOR_PACKAGES = {"mediapipe": "mediapipe", "mmpose": "mmpose", "gt": None}


def detector_description(detector) -> dict:
    package = DETECTOR_PACKAGES.get(detector.name)
    version = None
    if package is not None:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    info = {"name": detector.name, "keypoint_format": detector.keypoint_format, "version": version}
    info.update(getattr(detector, "description", {}))  # e.g. mmpose's config and checkpoint
    return info


def finite_or_none(value: float, digits: int) -> float | None:
    """A number rounded for the JSON, or None (null) for NaN: JSON has no NaN (e.g. the person score of a
    frame where optical flow, not the detector, found the person)."""
    return round(float(value), digits) if np.isfinite(value) else None


def rounded(array: np.ndarray, digits: int) -> list:
    """Plain nested lists, rounded so the JSON stays readable (sub-pixel, sub-millimetre)."""
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def person_record(track: PoseTrack, row: int, motion: TrackMotion | None = None) -> dict:
    """One person in one frame (or photo): row indexes the track's per-frame arrays (and motion's)."""
    detector_keypoints = None
    if track.detector_keypoints is not None:
        detector_keypoints = {
            "format": track.keypoint_format,
            # Unannotated joints (NaN) become null: JSON has no NaN.
            "keypoints": [
                None if not np.isfinite(xy).all() else rounded(xy, 2) for xy in track.detector_keypoints[row]
            ],
            "scores": rounded(track.detector_scores[row], 4),
        }
    record = {
        "id": int(track.track_id),
        "score": None if track.detection_score is None else finite_or_none(track.detection_score[row], 4),
        "bbox": rounded(track.bbox[row], 2),
        "keypoints_2d": rounded(track.keypoints_2d[row], 2),
        "scores": rounded(track.scores[row], 4),
        "imputed": track.imputed[row].tolist(),
        "pose_3d": rounded(track.pose_3d[row], 5),
        "pose_3d_mm": rounded(track.pose_3d_mm[row], 1),
        "camera": rounded(track.camera[row], 6),
        "detector_keypoints": detector_keypoints,
        "detector_pose_3d_m": None if track.detector_pose_3d_m is None else rounded(track.detector_pose_3d_m[row], 4),
    }
    if motion is not None:
        record["angles_deg"] = motion.angles_record(row)
        if motion.world is not None:
            record["world"] = {
                "joints_m": rounded(motion.world.joints_m[row], 4),
                "root_camera_m": rounded(motion.world.root_camera_m[row], 4),
            }
    return record


def placement_record(world) -> dict:
    """How a track was placed in the world frame (app.world.WorldTrack.summary), rounded."""
    summary = world.summary()
    for name in ("camera_height_m", "pitch_deg", "focal_px"):
        summary[name] = round(float(summary[name]), 4)
    return summary


def lifter_description(lifter: Lifter) -> dict:
    return {
        "weights": lifter.weights.name,
        "sha256": lifter.sha256,
        "device": str(lifter.device),
        "flip_average": lifter.flip_average,
    }


def header(kind: str, detector, lifter: Lifter) -> dict:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": kind,
        "detector": detector_description(detector),
        "lifter": lifter_description(lifter),
        "joint_names": list(JOINT_NAMES),
        "joint_parents": list(PARENTS),
    }


def result_record(
    result: ImageResult, detector, lifter: Lifter, image_name: str, motions: dict[int, TrackMotion] | None = None
) -> dict:
    """The photo JSON; motions (app.motion.clip_motion of the photo's clip, by person id) add each
    person's angles, world frame and BVH summary."""
    height, width = result.image.shape[:2]
    clip = photo_clip(image_name, width, height, result.people)
    people = []
    for track in clip.tracks:
        motion = None if motions is None else motions[track.track_id]
        person = person_record(track, 0, motion)
        if motion is not None and motion.world is not None:
            person["world"]["placement"] = placement_record(motion.world)
        if motion is not None and motion.bvh is not None:
            person["bvh"] = motion.bvh.to_json()
        people.append(person)
    return {
        **header("photo", detector, lifter),
        "image": {"file": image_name, "width": width, "height": height},
        "status": "ok" if result.people else "no_person",
        "not_lifted": list(result.not_lifted),
        "people": people,
    }


def clip_record(
    clip: Clip, detector, lifter: Lifter, video: dict, processing: dict, motions: dict[int, TrackMotion] | None = None
) -> dict:
    """The clip JSON: video (file, fps, ...) and processing describe how it was made (docs/output_format.md);
    motions (app.motion.clip_motion, by track id) add angles and world joints per person and frame, and
    the world placement and BVH summary per track."""
    rows = clip.rows_by_frame()
    times = clip.frame_times()
    motion_of = [None if motions is None else motions[track.track_id] for track in clip.tracks]
    frames = [
        {
            "index": index,
            "time_s": round(float(times[index]), 6),
            "people": [person_record(clip.tracks[column], row, motion_of[column]) for column, row in rows[index]],
        }
        for index in range(clip.num_frames)
    ]
    tracks = []
    for track, motion in zip(clip.tracks, motion_of):
        entry = {
            "id": int(track.track_id),
            "frames": len(track.frames),
            "first_frame": int(track.frames[0]),
            "last_frame": int(track.frames[-1]),
        }
        if motion is not None and motion.world is not None:
            entry["world"] = placement_record(motion.world)
        if motion is not None and motion.bvh is not None:
            entry["bvh"] = motion.bvh.to_json()
        tracks.append(entry)
    return {
        **header("clip", detector, lifter),
        "video": {"file": clip.name, "width": clip.width, "height": clip.height, "num_frames": clip.num_frames,
                  "fps": round(float(clip.fps), 6), **video},  # fmt: skip
        "processing": processing,
        "status": "ok" if clip.tracks else "no_person",
        "tracks": tracks,
        "frames": frames,
    }


def write_json(path: Path, record: dict, compact: bool = False) -> None:
    """compact: no indentation (a clip's JSON would otherwise put every number on its own line)."""
    layout = {"separators": (",", ":")} if compact else {"indent": 1}
    text = json.dumps(record, allow_nan=False, **layout)
    atomic_write_text(path, text + "\n")


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    def save(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    atomic_write(path, save)


def write_npz(path: Path, people_by_image: list[tuple[str, list[LiftedPerson]]]) -> None:
    """All people of all images, stacked: P people -> arrays with a leading P axis."""
    people = [
        (index, rank, person)
        for index, (_, persons) in enumerate(people_by_image)
        for rank, person in enumerate(persons)
    ]

    def stack(values: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        return np.stack(values).astype(np.float32) if values else np.zeros((0, *shape), np.float32)

    scores = [np.nan if p.detection.score is None else p.detection.score for _, _, p in people]
    save_npz(
        path,
        {
            "format": np.array(f"{FORMAT_NAME}-{FORMAT_VERSION}"),
            "joint_names": np.array(JOINT_NAMES),
            "image_names": np.array([name for name, _ in people_by_image]),
            "image_index": np.array([index for index, _, _ in people], dtype=np.int64),
            "person_id": np.array([rank for _, rank, _ in people], dtype=np.int64),
            "detection_score": np.array(scores, dtype=np.float32),
            "keypoints_2d": stack([p.keypoints_2d for _, _, p in people], (17, 2)),
            "scores": stack([p.scores for _, _, p in people], (17,)),
            "imputed": np.array([p.imputed for _, _, p in people], dtype=bool).reshape(-1, 17),
            "pose_3d": stack([p.pose_3d for _, _, p in people], (17, 3)),
            "pose_3d_mm": stack([p.pose_3d_mm for _, _, p in people], (17, 3)),
            "camera": stack([p.camera for _, _, p in people], (2, 3)),
        },
    )


# Track fields written densely, with each one's per-frame shape (for a clip without tracks).
CLIP_NPZ_FIELDS = {"bbox": (4,), "keypoints_2d": (NUM_JOINTS, 2), "scores": (NUM_JOINTS,),
                   "pose_3d": (NUM_JOINTS, 3), "pose_3d_mm": (NUM_JOINTS, 3), "camera": (2, 3)}  # fmt: skip


def write_clip_npz(path: Path, clip: Clip) -> None:
    """Dense (frames, tracks, ...) arrays, NaN where a track is absent; present says where it is."""
    count = len(clip.tracks)
    arrays = {
        "format": np.array(f"{FORMAT_NAME}-{FORMAT_VERSION}"),
        "joint_names": np.array(JOINT_NAMES),
        "fps": np.array(clip.fps, np.float64),
        "time_s": clip.frame_times(),  # (frames,)
        "track_ids": np.array([track.track_id for track in clip.tracks], np.int64),  # (tracks,)
        "present": np.zeros((clip.num_frames, count), bool),  # (frames, tracks)
        "imputed": np.zeros((clip.num_frames, count, NUM_JOINTS), bool),  # False where absent
        "detection_score": np.full((clip.num_frames, count), np.nan, np.float32),
    }
    for column, track in enumerate(clip.tracks):
        arrays["present"][track.frames, column] = True
        arrays["imputed"][track.frames, column] = track.imputed
        if track.detection_score is not None:
            arrays["detection_score"][track.frames, column] = track.detection_score
    for name, shape in CLIP_NPZ_FIELDS.items():  # (frames, tracks, *shape)
        dense = clip.dense(name) if clip.tracks else np.zeros((clip.num_frames, 0, *shape))
        arrays[name] = dense.astype(np.float32)
    save_npz(path, arrays)


def clip_from_record(record: dict) -> Clip:
    """A photo or clip JSON read back as a Clip (numbers as rounded in the file): what a batch re-run
    needs of the inputs it skips for its batch-wide CSV and gallery."""
    if record["kind"] == "photo":
        image = record["image"]
        frames = [{"index": 0, "people": record["people"]}]
        name, width, height, count, fps, times = image["file"], image["width"], image["height"], 1, None, None
    else:
        video, frames = record["video"], record["frames"]
        name, width, height, count, fps = video["file"], video["width"], video["height"], len(frames), video["fps"]
        times = np.array([frame["time_s"] for frame in frames]) if video["variable_frame_rate"] else None
    rows: dict[int, list[tuple[int, dict]]] = {}
    for frame in frames:
        for person in frame["people"]:
            rows.setdefault(person["id"], []).append((frame["index"], person))
    tracks = []
    for track_id, people in sorted(rows.items()):
        persons = [person for _, person in people]

        def field(key: str, dtype=np.float64) -> np.ndarray:
            return np.array([person[key] for person in persons], dtype)

        scores = [person["score"] for person in persons]
        tracks.append(
            PoseTrack(
                track_id=track_id,
                frames=np.array([index for index, _ in people], np.int64),
                bbox=field("bbox"),
                keypoints_2d=field("keypoints_2d"),
                scores=field("scores"),
                imputed=field("imputed", bool),
                pose_3d=field("pose_3d"),
                pose_3d_mm=field("pose_3d_mm"),
                camera=field("camera"),
                detection_score=None if None in scores else np.array(scores, np.float64),
            )
        )
    return Clip(name=name, width=width, height=height, num_frames=count, fps=fps, tracks=tracks, times=times)
