"""The svmac-pose JSON and NPZ outputs (docs/output_format.md, schema docs/svmac-pose-1.schema.json)."""

import importlib.metadata
import json
from pathlib import Path

import numpy as np

from app.pipeline import ImageResult, Lifter, LiftedPerson
from lifter.checkpoint import atomic_write, atomic_write_text
from lifter.skeleton import JOINT_NAMES, PARENTS

FORMAT_NAME = "svmac-pose"
FORMAT_VERSION = 1
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


def rounded(array: np.ndarray, digits: int) -> list:
    """Plain nested lists, rounded so the JSON stays readable (sub-pixel, sub-millimetre)."""
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def person_record(person: LiftedPerson) -> dict:
    detection = person.detection
    return {
        "bbox": rounded(detection.bbox, 2),
        "keypoints_2d": rounded(person.keypoints_2d, 2),
        "scores": rounded(person.scores, 4),
        "imputed": person.imputed.tolist(),
        "pose_3d": rounded(person.pose_3d, 5),
        "pose_3d_mm": rounded(person.pose_3d_mm, 1),
        "camera": rounded(person.camera, 6),
        "detector_keypoints": {
            "format": detection.keypoint_format,
            # Unannotated joints (NaN) become null: JSON has no NaN.
            "keypoints": [None if not np.isfinite(xy).all() else rounded(xy, 2) for xy in detection.keypoints],
            "scores": rounded(detection.scores, 4),
        },
        "detector_pose_3d_m": None if person.detector_pose_3d is None else rounded(person.detector_pose_3d, 4),
    }


def result_record(result: ImageResult, detector, lifter: Lifter, image_name: str) -> dict:
    height, width = result.image.shape[:2]
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "image": {"file": image_name, "width": width, "height": height},
        "detector": detector_description(detector),
        "lifter": {
            "weights": lifter.weights.name,
            "sha256": lifter.sha256,
            "device": str(lifter.device),
            "flip_average": lifter.flip_average,
        },
        "joint_names": list(JOINT_NAMES),
        "joint_parents": list(PARENTS),
        "status": "ok" if result.people else "no_person",
        "not_lifted": list(result.not_lifted),
        "people": [person_record(person) for person in result.people],
    }


def write_json(path: Path, record: dict) -> None:
    text = json.dumps(record, indent=1, allow_nan=False) + "\n"
    atomic_write_text(path, text)


def write_npz(path: Path, people_by_image: list[tuple[str, list[LiftedPerson]]]) -> None:
    """All people of all images, stacked: P people -> arrays with a leading P axis."""
    people = [(index, person) for index, (_, persons) in enumerate(people_by_image) for person in persons]

    def stack(values: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        return np.stack(values).astype(np.float32) if values else np.zeros((0, *shape), np.float32)

    arrays = {
        "format": np.array(f"{FORMAT_NAME}-{FORMAT_VERSION}"),
        "joint_names": np.array(JOINT_NAMES),
        "image_names": np.array([name for name, _ in people_by_image]),
        "image_index": np.array([index for index, _ in people], dtype=np.int64),
        "keypoints_2d": stack([p.keypoints_2d for _, p in people], (17, 2)),
        "scores": stack([p.scores for _, p in people], (17,)),
        "imputed": np.array([p.imputed for _, p in people], dtype=bool).reshape(-1, 17),
        "pose_3d": stack([p.pose_3d for _, p in people], (17, 3)),
        "pose_3d_mm": stack([p.pose_3d_mm for _, p in people], (17, 3)),
        "camera": stack([p.camera for _, p in people], (2, 3)),
    }

    def save(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    atomic_write(path, save)
