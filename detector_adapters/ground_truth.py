"""2D annotations a user already has, read as if a detector had found them.

Lifting annotated photos separates the lifter's error from the detector's, and the detector
benchmarks compare predictions with these same people. Every reader returns
{image file name: [DetectedPerson, ...]} with the annotation's own keypoint format (mapped to
H36M-17 later, like any detection), and follows one convention for scores:

- annotated and visible: 1.0;
- annotated but marked occluded (COCO v=1, LSP visible=0): OCCLUDED_SCORE: the position is
  the annotator's guess, still far better than nothing;
- not annotated: NaN coordinates and score 0 (so no derived joint is built from it).

Coordinates are taken as stored. MPII and LSP were annotated in MATLAB (1-based pixel centres),
so they may sit up to 1 px off the 0-based convention of the detectors: far below annotation noise.
Files that do not have the expected structure raise SvmacError with a one-line reason.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detector_adapters.base import DetectedPerson, bbox_of
from detector_adapters.keypoint_mapping import COCO17_NAMES, H36M17_NAMES, LSP14_NAMES, MPII16_NAMES
from lifter.errors import SvmacError

OCCLUDED_SCORE = 0.5
# COCO's own spelling of its keypoint names, to refuse files with another keypoint order.
COCO_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
assert len(COCO_KEYPOINT_NAMES) == len(COCO17_NAMES)

People = dict[str, list[DetectedPerson]]


def _person(
    keypoints: np.ndarray, scores: np.ndarray, keypoint_format: str, bbox: np.ndarray | None = None
) -> DetectedPerson:
    """Unannotated joints (score 0) get NaN coordinates; the box defaults to the annotated joints' box."""
    keypoints = np.where((scores > 0)[:, None], keypoints, np.nan).astype(np.float64)
    if bbox is None:
        bbox = bbox_of(np.nan_to_num(keypoints[scores > 0]), scores[scores > 0])
    return DetectedPerson(
        keypoints=keypoints, scores=scores.astype(np.float64), bbox=bbox, keypoint_format=keypoint_format
    )


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise SvmacError(f"{path}: no such annotation file")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SvmacError(f"{path}: not a JSON file ({err})") from None


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise SvmacError(f"{path}: no such annotation file")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as err:
        raise SvmacError(f"{path}: not a readable .npz file ({err})") from None


def _array(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    """value as float64 with the given shape (-1 = any), or SvmacError naming where it came from."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise SvmacError(f"{where}: not numbers") from None
    if array.ndim != len(shape) or any(s not in (-1, a) for s, a in zip(shape, array.shape)):
        wanted = "x".join("N" if s == -1 else str(s) for s in shape)
        raise SvmacError(f"{where}: expected shape {wanted}, got {'x'.join(map(str, array.shape)) or 'a scalar'}")
    return array


# ---------------------------------------------------------------------------------- COCO


def read_coco_json(path: str | Path) -> People:
    """COCO keypoint annotations (person_keypoints_*.json) -> {file_name: people}, coco17 format.

    Crowd regions and people without a single annotated keypoint are left out (nothing to lift);
    an image whose people are all left out maps to an empty list. The box is COCO's own.
    """
    path = Path(path)
    data = _load_json(path)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("images"), list)
        or not isinstance(data.get("annotations"), list)
    ):
        raise SvmacError(f"{path}: not a COCO keypoint file (needs 'images' and 'annotations' lists)")
    person_ids = set()
    for category in data.get("categories", []):
        if not isinstance(category, dict):
            raise SvmacError(f"{path}: malformed 'categories' entry")
        names = category.get("keypoints")
        if names is not None and tuple(names) != COCO_KEYPOINT_NAMES:
            raise SvmacError(f"{path}: category {category.get('name')!r} has keypoints {names}, not COCO-17's")
        if category.get("name") == "person" or names is not None:
            person_ids.add(category.get("id"))
    files: dict[Any, str] = {}
    for image in data["images"]:
        if not isinstance(image, dict) or "id" not in image or "file_name" not in image:
            raise SvmacError(f"{path}: every image needs an 'id' and a 'file_name'")
        files[image["id"]] = Path(image["file_name"]).name
    people: People = {name: [] for name in files.values()}
    for number, annotation in enumerate(data["annotations"]):
        where = f"{path}: annotation {number}"
        if not isinstance(annotation, dict) or "keypoints" not in annotation or "image_id" not in annotation:
            raise SvmacError(f"{where}: needs 'image_id' and 'keypoints'")
        if person_ids and annotation.get("category_id", next(iter(person_ids))) not in person_ids:
            continue
        if annotation.get("iscrowd", 0):
            continue
        if annotation["image_id"] not in files:
            raise SvmacError(f"{where}: image_id {annotation['image_id']} is not in 'images'")
        triples = _array(annotation["keypoints"], (len(COCO17_NAMES) * 3,), f"{where} keypoints").reshape(-1, 3)
        visibility = triples[:, 2]
        if not np.isin(visibility, (0, 1, 2)).all():
            raise SvmacError(f"{where}: keypoint visibility must be 0, 1 or 2, got {sorted(set(visibility))}")
        if not (visibility > 0).any():
            continue
        scores = np.select([visibility == 2, visibility == 1], [1.0, OCCLUDED_SCORE], 0.0)
        bbox = None
        if "bbox" in annotation:
            x, y, w, h = _array(annotation["bbox"], (4,), f"{where} bbox")
            bbox = np.array([x, y, x + w, y + h])
        people[files[annotation["image_id"]]].append(_person(triples[:, :2], scores, "coco17", bbox))
    return people


# ---------------------------------------------------------------------------------- MPII


def read_mpii_json(path: str | Path) -> People:
    """MPII annotations in the JSON layout of mmpose's mpii_{train,val}.json -> {image: people}, mpii16.

    Each entry is one person: {"image", "joints" (16 x [x, y]), "joints_vis" (16 x 0/1), ...};
    people of the same image are gathered. joints_vis 0 marks a joint that was not annotated.
    """
    path = Path(path)
    data = _load_json(path)
    if not isinstance(data, list):
        raise SvmacError(f"{path}: not an MPII annotation list (expected a JSON list of people)")
    people: People = {}
    for number, entry in enumerate(data):
        where = f"{path}: person {number}"
        if not isinstance(entry, dict) or not {"image", "joints", "joints_vis"} <= entry.keys():
            raise SvmacError(f"{where}: needs 'image', 'joints' and 'joints_vis'")
        joints = _array(entry["joints"], (len(MPII16_NAMES), 2), f"{where} joints")
        visible = _array(entry["joints_vis"], (len(MPII16_NAMES),), f"{where} joints_vis")
        people.setdefault(Path(str(entry["image"])).name, [])
        if (visible > 0).any():
            people[Path(str(entry["image"])).name].append(_person(joints, (visible > 0).astype(np.float64), "mpii16"))
    return people


# ----------------------------------------------------------------------------------- LSP


def read_lsp(path: str | Path) -> People:
    """Leeds Sports Pose joints in an .npz: names (N,) image file names, joints (N, 14, 3) x, y, visible.

    LSP annotates every joint, occluded ones included (visible = 0): those get OCCLUDED_SCORE.
    A joint with a negative or non-finite coordinate counts as not annotated.
    """
    path = Path(path)
    data = _load_npz(path)
    if "joints" not in data or "names" not in data:
        raise SvmacError(f"{path}: an LSP .npz needs 'names' and 'joints', has {sorted(data)}")
    joints = _array(data["joints"], (-1, len(LSP14_NAMES), 3), f"{path} joints")
    names = [Path(str(name)).name for name in data["names"]]
    if len(names) != len(joints):
        raise SvmacError(f"{path}: {len(names)} names for {len(joints)} joint sets")
    people: People = {}
    for name, person in zip(names, joints):
        annotated = np.isfinite(person[:, :2]).all(-1) & (person[:, :2] >= 0).all(-1)
        scores = np.where(annotated, np.where(person[:, 2] > 0, 1.0, OCCLUDED_SCORE), 0.0)
        people.setdefault(name, [])
        if annotated.any():
            people[name].append(_person(person[:, :2], scores, "lsp14"))
    return people


# ------------------------------------------------------------------------------ H36M-17


def read_h36m17(source: str | Path | np.ndarray, names: Sequence[str] | None = None) -> People:
    """Human3.6M-17 2D poses -> {image name: [person]}, h36m17 format.

    source: an array (N, 17, 2) / (N, 17, 3) (third column: visibility) or (17, 2|3) for one
    person, keyed by `names` (default "0", "1", ...); or an .npz in the layout of the
    Human3.6M fixtures (imgname (N,), part (N, 17, 3) = x, y, visibility), keyed by file name.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        data = _load_npz(path)
        if "part" not in data or "imgname" not in data:
            raise SvmacError(f"{path}: an H36M-17 .npz needs 'imgname' and 'part', has {sorted(data)}")
        poses = _array(data["part"], (-1, len(H36M17_NAMES), -1), f"{path} part")
        names = [Path(str(name)).name for name in data["imgname"]]
        where = str(path)
    else:
        poses = np.asarray(source, dtype=np.float64)
        poses = poses[None] if poses.ndim == 2 else poses
        where = "H36M-17 array"
        _array(poses, (-1, len(H36M17_NAMES), -1), where)
        names = [str(i) for i in range(len(poses))] if names is None else [str(name) for name in names]
    if poses.shape[-1] not in (2, 3):
        raise SvmacError(f"{where}: expected x, y[, visibility] per joint, got {poses.shape[-1]} values")
    if len(names) != len(poses):
        raise SvmacError(f"{where}: {len(names)} names for {len(poses)} poses")
    visible = poses[..., 2] > 0 if poses.shape[-1] == 3 else np.ones(poses.shape[:2], dtype=bool)
    people: People = {}
    for name, pose, vis in zip(names, poses, visible):
        annotated = vis & np.isfinite(pose[:, :2]).all(-1)
        people.setdefault(name, [])
        if annotated.any():
            people[name].append(_person(pose[:, :2], annotated.astype(np.float64), "h36m17"))
    return people


# ------------------------------------------------------------------------- any of them


def read_annotations(path: str | Path) -> tuple[People, str]:
    """Read an annotation file of any supported kind, recognised by its content. -> (people, keypoint format)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = _load_json(path)
        if isinstance(data, dict) and "annotations" in data:
            return read_coco_json(path), "coco17"
        if isinstance(data, list):
            return read_mpii_json(path), "mpii16"
        raise SvmacError(f"{path}: neither COCO keypoints (a dict with 'annotations') nor MPII (a list of people)")
    if path.suffix.lower() == ".npz":
        keys = set(_load_npz(path))
        if {"names", "joints"} <= keys:
            return read_lsp(path), "lsp14"
        if {"imgname", "part"} <= keys:
            return read_h36m17(path), "h36m17"
        raise SvmacError(f"{path}: neither LSP ('names', 'joints') nor H36M-17 ('imgname', 'part'), has {sorted(keys)}")
    raise SvmacError(f"{path}: annotation files are COCO or MPII .json, or LSP or H36M-17 .npz")


class GroundTruthDetector:
    """A "detector" that returns the annotated people of an image, found by its file name.

    The app calls detect_path(image_path, image_rgb); a photo missing from the annotation file is
    an error (the user pointed at the wrong file), an annotated photo without people is not.
    """

    name = "gt"

    def __init__(self, annotation_path: str | Path) -> None:
        self.annotation_path = Path(annotation_path)
        self.people, self.keypoint_format = read_annotations(self.annotation_path)

    def detect_for(self, image_path: str | Path) -> list[DetectedPerson]:
        name = Path(image_path).name
        if name not in self.people:
            raise SvmacError(f"{name}: not in {self.annotation_path} ({len(self.people)} images annotated there)")
        return list(self.people[name])

    def detect_path(self, image_path: str | Path, image_rgb: np.ndarray) -> list[DetectedPerson]:
        """The annotated people of this image; refuses annotations that lie outside the image,
        the sign of a resized photo or a file-name clash."""
        people = self.detect_for(image_path)
        height, width = image_rgb.shape[:2]
        for person in people:
            centre = np.nanmean(person.keypoints, axis=0)
            if not (0 <= centre[0] <= width and 0 <= centre[1] <= height):
                raise SvmacError(
                    f"{Path(image_path).name}: annotated joints centred at ({centre[0]:.0f}, {centre[1]:.0f}) px, "
                    f"outside the {width}x{height} image: resized photo or wrong annotation file?"
                )
        return people

    def detect(self, image_rgb: np.ndarray) -> list[DetectedPerson]:
        raise SvmacError("the ground-truth detector finds people by the image's file name: use detect_path")
