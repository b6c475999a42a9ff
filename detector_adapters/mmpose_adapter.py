"""Top-down mmpose models (HRNet-w32, stacked hourglass) as a Detector, with user-supplied weights.

The mmpose stack is optional (bash scripts/install_mmpose.sh) and is imported only when a
detector is built, so importing this module costs nothing without it. No weights are
downloaded: the configs ship inside the mmpose package and the checkpoint is a file the user
gives. Checkpoints are read with torch.load(weights_only=True); official OpenMMLab ones keep
numpy arrays and scalars in their metadata, which are allowed for that one call only.

People are found in one of three ways, by priority: boxes the caller passes to detect(), an
mmdet person detector (config + checkpoint), or the whole image as one person.
"""

import re
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from detector_adapters.base import DetectedPerson
from lifter.errors import SvmacError

INSTALL_HINT = "mmpose is not installed: run bash scripts/install_mmpose.sh"


@dataclass(frozen=True)
class PosePreset:
    config: str  # relative to mmpose's configs/body_2d_keypoint/topdown_heatmap
    keypoint_format: str
    description: str


POSE_PRESETS: dict[str, PosePreset] = {
    "hrnet-w32-coco": PosePreset(
        "coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py", "coco17", "HRNet-w32, COCO-17, 256x192"
    ),
    "hourglass52-coco": PosePreset(
        "coco/td-hm_hourglass52_8xb32-210e_coco-256x256.py", "coco17", "Stacked hourglass-52, COCO-17, 256x256"
    ),
    "hourglass52-mpii": PosePreset(
        "mpii/td-hm_hourglass52_8xb64-210e_mpii-256x256.py", "mpii16", "Stacked hourglass-52, MPII-16, 256x256"
    ),
}

# Person-only RTMDet configs that mmpose ships for its own demos (relative to the package's
# demo/mmdetection_cfg); any mmdet config path is accepted too.
PERSON_DETECTOR_PRESETS: dict[str, str] = {
    "rtmdet-nano-person": "rtmdet_nano_320-8xb32_coco-person.py",
    "rtmdet-m-person": "rtmdet_m_640-8xb32_coco-person.py",
}

# mmpose's dataset names -> this project's keypoint formats (same joint order, checked by the tests).
_DATASET_FORMATS: dict[str, str] = {"coco": "coco17", "mpii": "mpii16"}


def _numpy_safe_globals() -> list:
    """What unpickling numpy arrays, dtypes and scalars needs, under numpy 2 and numpy 1 names.

    Official checkpoints were written with numpy 1, whose pickles name numpy.core.multiarray;
    torch matches globals by that exact name, hence the (object, old name) pairs.
    """
    reconstruct = np._core.multiarray._reconstruct
    scalar = np._core.multiarray.scalar
    dtype_classes = [getattr(np.dtypes, name) for name in np.dtypes.__all__]
    dtype_classes = [cls for cls in dtype_classes if isinstance(cls, type) and issubclass(cls, np.dtype)]
    return [
        reconstruct,
        scalar,
        (reconstruct, "numpy.core.multiarray._reconstruct"),
        (scalar, "numpy.core.multiarray.scalar"),
        np.ndarray,
        np.dtype,
        *dtype_classes,
    ]


def load_checkpoint_state_dict(path: str | Path) -> tuple[OrderedDict[str, torch.Tensor], dict]:
    """Read an mmpose/mmdet checkpoint with weight-only loading. -> (state_dict, meta).

    Accepts a full training checkpoint ({"state_dict": ..., "meta": ...}) or a bare state_dict.
    Raises SvmacError with one line for a missing, unreadable or non-weights file.
    """
    path = Path(path)
    if not path.is_file():
        raise SvmacError(f"{path}: no such checkpoint file")
    try:
        # A local allow-list: weight-only loading stays on, and the numpy globals are
        # allowed for this call only, not for the rest of the process.
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError... for bad files
        # torch's messages run to a paragraph; keep the one clause that says what is wrong.
        text = str(err)
        unsupported = re.search(r"Unsupported global: GLOBAL \S+", text)
        unpickler = re.search(r"WeightsUnpickler error:\s*(\S.*)", text)
        detail = unsupported.group(0) if unsupported else unpickler.group(1) if unpickler else text.split(". ")[0]
        raise SvmacError(f"{path}: not a checkpoint that weight-only loading can read ({detail})") from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, Mapping) else None
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SvmacError(f"{path}: holds no state_dict of tensors")
    # Weights saved from a DataParallel/DistributedDataParallel wrapper carry a "module." prefix.
    # The per-module versions in _metadata tell mmpose's hooks which key names to expect.
    metadata = getattr(state, "_metadata", None)
    state = OrderedDict((key.removeprefix("module."), value) for key, value in state.items())
    if metadata is not None:
        state._metadata = metadata
    meta = checkpoint.get("meta", {}) if isinstance(checkpoint, Mapping) else {}
    return state, meta if isinstance(meta, Mapping) else {}


def _load_into(model: torch.nn.Module, state: Mapping[str, torch.Tensor], path: Path, what: str) -> None:
    """Copy state into model, or raise one line naming how the architectures differ.

    load_state_dict itself does the comparison because mmpose registers hooks there that rename
    mmpose 0.x keys (keypoint_head.* -> head.*): the official hourglass checkpoints are 0.x files.
    """
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # raised for shape mismatches even with strict=False
        shapes = re.findall(r"size mismatch for (\S+): copying a param with shape torch\.Size\((\[.*?\])\)", str(err))
        models = re.findall(r"the shape in current model is torch\.Size\((\[.*?\])\)", str(err))
        if not shapes or len(models) != len(shapes):
            raise SvmacError(f"{path}: checkpoint does not fit {what}: {str(err).strip().splitlines()[-1]}") from None
        (name, theirs), ours = shapes[0], models[0]
        raise SvmacError(
            f"{path}: checkpoint does not fit {what}: {len(shapes)} shape mismatches "
            f"(e.g. {name}: checkpoint {theirs}, model {ours})"
        ) from None
    # BatchNorm's step counter does not affect inference; converted checkpoints often lack it.
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    unexpected = result.unexpected_keys
    if missing or unexpected:
        parts = [f"{len(missing)} missing keys (e.g. {missing[0]})"] if missing else []
        parts += [f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})"] if unexpected else []
        raise SvmacError(f"{path}: checkpoint does not fit {what}: {'; '.join(parts)}")


def _package_file(package_file: str, *relative: str) -> Path:
    """A file shipped with an OpenMMLab package: under .mim/ in a wheel, at the repo root in a source checkout."""
    root = Path(package_file).parent
    for candidate in (root / ".mim" / Path(*relative), root.parent / Path(*relative)):
        if candidate.is_file():
            return candidate
    raise SvmacError(f"{Path(*relative)} is not shipped with the installed package at {root}; reinstall it")


def _boxes_array(boxes: np.ndarray | list, width: int, height: int) -> np.ndarray:
    """Validate caller boxes (N, 4) or (4,) xyxy pixels; boxes may extend past the image, not miss it."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 4))
    array = array[None] if array.ndim == 1 else array
    if array.ndim != 2 or array.shape[1] != 4:
        raise SvmacError(f"person boxes must be (N, 4) x0, y0, x1, y1 pixels, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise SvmacError("person boxes must be finite x0, y0, x1, y1 pixels")
    if np.any(array[:, 2] <= array[:, 0]) or np.any(array[:, 3] <= array[:, 1]):
        raise SvmacError("person boxes must be x0, y0, x1, y1 with x1 > x0 and y1 > y0")
    if np.any((array[:, 2] <= 0) | (array[:, 3] <= 0) | (array[:, 0] >= width) | (array[:, 1] >= height)):
        raise SvmacError(f"a person box lies outside the {width}x{height} image")
    return array


class MMPoseDetector:
    """An mmpose top-down heatmap model as a Detector (see detector_adapters.base).

    model: a key of POSE_PRESETS or the path of an mmpose top-down config (COCO or MPII keypoints).
    checkpoint: the trained weights (.pth). None is refused unless random_weights=True (for tests
    and timing: random weights give meaningless keypoints).
    person_detector, person_checkpoint: an mmdet config (a key of PERSON_DETECTOR_PRESETS or a
    path) and its weights, to find people instead of taking the whole image.
    flip_test: also run the mirrored crop and average the heatmaps, as the configs (and the
    published accuracies) do; False halves the time per person.
    """

    name = "mmpose"

    def __init__(
        self,
        model: str | Path = "hrnet-w32-coco",
        checkpoint: str | Path | None = None,
        *,
        person_detector: str | Path | None = None,
        person_checkpoint: str | Path | None = None,
        person_score_threshold: float = 0.5,
        max_people: int = 10,
        flip_test: bool = True,
        device: str = "cpu",
        random_weights: bool = False,
    ) -> None:
        if checkpoint is None and not random_weights:
            raise SvmacError("no mmpose checkpoint given: pass the path of trained weights for this model")
        if person_checkpoint is not None and person_detector is None:
            raise SvmacError("a person checkpoint was given without its mmdet config (person_detector)")
        if person_detector is not None and person_checkpoint is None and not random_weights:
            raise SvmacError("no person detector checkpoint given: pass the weights for its mmdet config")
        if not 0.0 <= person_score_threshold <= 1.0 or max_people < 1:
            raise SvmacError("person_score_threshold must be in [0, 1] and max_people at least 1")
        try:
            import mmpose
            from mmpose.apis import inference_topdown, init_model
        except ImportError as err:  # also a partial stack: mmcv without its compiled ops, no mmdet
            raise SvmacError(f"{INSTALL_HINT} ({err})") from None
        self._inference_topdown = inference_topdown
        self.person_score_threshold = person_score_threshold
        self.max_people = max_people

        config = self._pose_config(model, mmpose.__file__)
        with warnings.catch_warnings():
            # init_model warns about weights it was not asked to load; ours are loaded below.
            warnings.simplefilter("ignore")
            self.model = init_model(str(config), checkpoint=None, device=device)
        self.model.test_cfg["flip_test"] = flip_test
        if checkpoint is not None:
            state, _ = load_checkpoint_state_dict(checkpoint)
            _load_into(self.model, state, Path(checkpoint), f"mmpose model {model}")
            self.model.to(device)

        meta = self.model.dataset_meta
        self.keypoint_format = _DATASET_FORMATS.get(meta.get("dataset_name", ""), "")
        if not self.keypoint_format:
            raise SvmacError(
                f"{config}: keypoints of dataset {meta.get('dataset_name')!r} are not supported "
                f"(only {', '.join(_DATASET_FORMATS)})"
            )
        self.keypoint_names: tuple[str, ...] = tuple(meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"]))

        self.person_model = None
        if person_detector is not None:
            self.person_model, self._person_label, self._inference_detector = self._build_person_detector(
                person_detector, person_checkpoint, mmpose.__file__, device
            )

    @staticmethod
    def _pose_config(model: str | Path, mmpose_file: str) -> Path:
        if str(model) in POSE_PRESETS:
            return _package_file(
                mmpose_file, "configs", "body_2d_keypoint", "topdown_heatmap", POSE_PRESETS[str(model)].config
            )
        path = Path(model)
        if path.suffix == ".py" and path.is_file():
            return path
        raise SvmacError(f"unknown mmpose model {str(model)!r}: use one of {', '.join(POSE_PRESETS)} or a config path")

    @staticmethod
    def _build_person_detector(
        config: str | Path, checkpoint: str | Path | None, mmpose_file: str, device: str
    ) -> tuple[torch.nn.Module, int, Callable]:
        from mmdet.apis import inference_detector, init_detector

        if str(config) in PERSON_DETECTOR_PRESETS:
            path = _package_file(mmpose_file, "demo", "mmdetection_cfg", PERSON_DETECTOR_PRESETS[str(config)])
        elif Path(config).suffix == ".py" and Path(config).is_file():
            path = Path(config)
        else:
            raise SvmacError(
                f"unknown person detector {str(config)!r}: use one of {', '.join(PERSON_DETECTOR_PRESETS)} "
                "or an mmdet config path"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detector = init_detector(str(path), checkpoint=None, device=device)
        classes: tuple = tuple(detector.dataset_meta.get("classes", ("person",)))
        if checkpoint is not None:
            state, meta = load_checkpoint_state_dict(checkpoint)
            _load_into(detector, state, Path(checkpoint), f"person detector {config}")
            detector.to(device)
            classes = tuple(meta.get("dataset_meta", {}).get("classes", classes))
        # A person-only detector has one class; a COCO detector lists person first.
        label = classes.index("person") if "person" in classes else 0
        return detector, label, inference_detector

    def person_boxes(self, image_rgb: np.ndarray) -> np.ndarray:
        """The mmdet detector's person boxes above the score threshold, best first, clipped to the
        image (the whole image without a detector). -> (N, 4) xyxy"""
        height, width = image_rgb.shape[:2]
        if self.person_model is None:
            return np.array([[0.0, 0.0, width, height]])
        # mmdet, like mmpose, expects OpenCV's BGR order.
        result = self._inference_detector(self.person_model, np.ascontiguousarray(image_rgb[..., ::-1]))
        instances = result.pred_instances
        boxes = np.clip(instances.bboxes.cpu().numpy().astype(np.float64), 0, [width, height, width, height])
        scores = instances.scores.cpu().numpy()
        keep = (instances.labels.cpu().numpy() == self._person_label) & (scores >= self.person_score_threshold)
        keep &= (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)  # not clipped to nothing
        order = np.argsort(-scores[keep], kind="stable")[: self.max_people]
        return boxes[keep][order]

    def detect(self, image_rgb: np.ndarray, boxes: np.ndarray | list | None = None) -> list[DetectedPerson]:
        """One person per box: boxes (N, 4) xyxy pixels if given, else found by the person detector
        if there is one, else the whole image. image_rgb: (H, W, 3) uint8 RGB."""
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise SvmacError(f"expected an (H, W, 3) uint8 RGB image, got {image_rgb.shape} {image_rgb.dtype}")
        height, width = image_rgb.shape[:2]
        chosen = _boxes_array(boxes, width, height) if boxes is not None else self.person_boxes(image_rgb)
        if len(chosen) == 0:  # mmpose would treat no boxes as the whole image
            return []
        # mmpose's pipeline expects OpenCV's BGR order (its preprocessor flips back to RGB).
        bgr = np.ascontiguousarray(image_rgb[..., ::-1])
        samples = self._inference_topdown(self.model, bgr, bboxes=chosen.astype(np.float32), bbox_format="xyxy")
        people = []
        for box, sample in zip(chosen, samples, strict=True):
            keypoints = np.asarray(sample.pred_instances.keypoints[0], dtype=np.float64)
            scores = np.clip(np.asarray(sample.pred_instances.keypoint_scores[0], dtype=np.float64), 0.0, 1.0)
            people.append(DetectedPerson(keypoints, scores, box.copy(), self.keypoint_format))
        return people
