"""The mmpose adapter with random weights on a real photo: formats, boxes, checkpoints (optional stack).

Trained mmpose weights cannot be downloaded here, so these tests check everything but accuracy:
output shapes and formats per preset, joint order against the mapping tables, caller and
detector boxes, and that checkpoints written like OpenMMLab's (numpy objects in their meta,
numpy 1 pickle names) load with weight-only loading and reproduce the model exactly.
"""

import functools
import pickle
import subprocess
import sys
import types
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

pytest.importorskip("mmpose")

from detector_adapters import keypoint_mapping  # noqa: E402
from detector_adapters.image_io import load_image  # noqa: E402
from detector_adapters.mmpose_adapter import (  # noqa: E402
    INSTALL_HINT,
    POSE_PRESETS,
    MMPoseDetector,
)
from lifter.errors import SvmacError  # noqa: E402

PHOTO = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
EXPECTED_JOINTS = {"coco17": 17, "mpii16": 16}


@functools.cache
def random_detector(preset: str) -> MMPoseDetector:
    torch.manual_seed(0)
    return MMPoseDetector(preset, random_weights=True)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return load_image(PHOTO)


def crop_region(detector: MMPoseDetector, box: np.ndarray) -> np.ndarray:
    """The image region a top-down model sees for a box: mmpose pads it by 1.25 and widens it
    to the model's input aspect ratio. Keypoints come from heatmaps of that crop, refined by up
    to a quarter of a heatmap cell: the region is grown by one cell. -> (4,) xyxy"""
    input_width, input_height = detector.model.cfg.codec["input_size"]
    heatmap_width, _ = detector.model.cfg.codec["heatmap_size"]
    center = (box[:2] + box[2:]) / 2
    width, height = (box[2:] - box[:2]) * 1.25
    aspect = input_width / input_height
    width, height = (width, width / aspect) if width > height * aspect else (height * aspect, height)
    half = np.array([width, height]) / 2 * (1 + 2 / heatmap_width)
    return np.concatenate([center - half, center + half])


def inside(points: np.ndarray, region: np.ndarray) -> bool:
    return bool(np.all(points >= region[:2]) and np.all(points <= region[2:]))


def normalised(name: str) -> str:
    """mmpose's 'left_shoulder' / 'upper_neck' and our 'LShoulder' / 'UpperNeck' -> 'lshoulder' / 'upperneck'."""
    return name.replace("left_", "l").replace("right_", "r").replace("_", "").lower()


def legacy_numpy_pickle_module() -> types.SimpleNamespace:
    """A pickle module for torch.save that names numpy's globals as numpy 1 did (numpy.core.*),
    like the OpenMMLab checkpoints written in 2020-2023."""

    class LegacyPickler(pickle._Pickler):
        def save_global(self, obj, name=None):
            module = getattr(obj, "__module__", "")
            if not module.startswith("numpy._core"):
                return super().save_global(obj, name)
            legacy = module.replace("numpy._core", "numpy.core")
            self.write(pickle.GLOBAL + f"{legacy}\n{name or obj.__qualname__}\n".encode())
            self.memoize(obj)

    return types.SimpleNamespace(Pickler=LegacyPickler, __name__="legacy_numpy_pickle")


def save_like_openmmlab(model: torch.nn.Module, path: Path, pickle_module=pickle) -> Path:
    """A checkpoint shaped like OpenMMLab's released ones: state_dict plus numpy objects in meta."""
    meta = {
        "epoch": np.int64(210),
        "dataset_meta": {
            "dataset_name": "coco",
            "sigmas": np.linspace(0.025, 0.107, 17, dtype=np.float32),
            "joint_weights": np.ones(17, dtype=np.float64),
            "flip_indices": [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15],
            "classes": np.array(["person"]),
        },
    }
    torch.save({"meta": meta, "state_dict": model.state_dict()}, path, pickle_module=pickle_module)
    return path


@pytest.mark.parametrize("preset", POSE_PRESETS)
def test_whole_image_gives_one_person_in_the_preset_format(preset, image):
    detector = random_detector(preset)
    people = detector.detect(image)
    height, width = image.shape[:2]
    assert detector.name == "mmpose" and detector.keypoint_format == POSE_PRESETS[preset].keypoint_format
    assert len(people) == 1
    person = people[0]
    joints = EXPECTED_JOINTS[detector.keypoint_format]
    assert person.keypoint_format == detector.keypoint_format
    assert person.keypoints.shape == (joints, 2) and person.keypoints.dtype == np.float64
    assert person.scores.shape == (joints,) and np.all((person.scores >= 0) & (person.scores <= 1))
    assert np.isfinite(person.keypoints).all()
    np.testing.assert_array_equal(person.bbox, [0, 0, width, height])
    assert inside(person.keypoints, crop_region(detector, person.bbox))


@pytest.mark.parametrize("preset", POSE_PRESETS)
def test_joint_order_is_the_one_the_mapping_table_expects(preset, image):
    detector = random_detector(preset)
    mappings = getattr(keypoint_mapping, "MAPPINGS", {"mpii16": keypoint_mapping.MPII16_TO_H36M17})
    if detector.keypoint_format not in mappings:
        pytest.skip(f"no {detector.keypoint_format} mapping table yet")
    mapping = mappings[detector.keypoint_format]
    assert [normalised(n) for n in detector.keypoint_names] == [n.lower() for n in mapping.source_names]
    person = detector.detect(image)[0]
    h36m, scores = keypoint_mapping.map_keypoints(mapping, person.keypoints, person.scores)
    assert h36m.shape == (17, 2) and np.isfinite(h36m).all()
    assert scores.shape == (17,) and np.all((scores >= 0) & (scores <= 1))


def test_the_rgb_image_reaches_mmpose_in_bgr_order(image):
    from mmpose.apis import inference_topdown

    detector = random_detector("hrnet-w32-coco")
    person = detector.detect(image)[0]
    box = np.array([[0, 0, image.shape[1], image.shape[0]]], dtype=np.float32)
    as_bgr = inference_topdown(detector.model, np.ascontiguousarray(image[..., ::-1]), bboxes=box)[0]
    as_rgb = inference_topdown(detector.model, image, bboxes=box)[0]
    bgr_scores = np.clip(as_bgr.pred_instances.keypoint_scores[0], 0, 1)
    np.testing.assert_allclose(person.keypoints, as_bgr.pred_instances.keypoints[0], rtol=0, atol=1e-4)
    np.testing.assert_allclose(person.scores, bgr_scores, rtol=0, atol=1e-6)
    assert not np.allclose(as_rgb.pred_instances.keypoint_scores[0], as_bgr.pred_instances.keypoint_scores[0])


@pytest.mark.parametrize("preset", ["hrnet-w32-coco", "hourglass52-mpii"])
def test_caller_boxes_give_one_person_each_inside_its_box(preset, image):
    detector = random_detector(preset)
    height, width = image.shape[:2]
    face = np.array([150.0, 60.0, 380.0, 330.0])
    corner = np.array([width - 90.0, height - 120.0, width - 10.0, height - 10.0])
    people = detector.detect(image, boxes=[face, corner])
    assert len(people) == 2
    for person, box in zip(people, (face, corner), strict=True):
        np.testing.assert_array_equal(person.bbox, box)
        region = crop_region(detector, box)
        assert (region[2:] - region[:2]).max() < min(width, height)  # the box really narrows the search
        assert inside(person.keypoints, region)
    assert not np.allclose(people[0].keypoints, people[1].keypoints)
    # One box as a flat list works too, and an empty list means nobody.
    assert len(detector.detect(image, boxes=list(face))) == 1
    assert detector.detect(image, boxes=np.zeros((0, 4))) == []


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        ([[10, 10, 5, 50]], "x1 > x0"),
        ([[10, 10, np.nan, 50]], "finite"),
        ([[1000, 1000, 1200, 1200]], "outside"),
        ([[1, 2, 3]], "shape"),
    ],
)
def test_bad_boxes_and_images_are_refused_in_one_line(boxes, message, image):
    detector = random_detector("hrnet-w32-coco")
    with pytest.raises(SvmacError, match=message):
        detector.detect(image, boxes=boxes)
    with pytest.raises(SvmacError, match="uint8 RGB"):
        detector.detect(image.astype(np.float32))


@pytest.mark.parametrize("pickle_module", [pickle, legacy_numpy_pickle_module()], ids=["numpy2", "numpy1-names"])
def test_an_openmmlab_style_checkpoint_reloads_to_identical_outputs(pickle_module, image, tmp_path):
    original = random_detector("hrnet-w32-coco")
    path = save_like_openmmlab(original.model, tmp_path / "hrnet.pth", pickle_module)
    reloaded = MMPoseDetector("hrnet-w32-coco", path)
    boxes = [[150.0, 60.0, 380.0, 330.0], [0, 0, image.shape[1], image.shape[0]]]
    for a, b in zip(original.detect(image, boxes), reloaded.detect(image, boxes), strict=True):
        np.testing.assert_array_equal(a.keypoints, b.keypoints)
        np.testing.assert_array_equal(a.scores, b.scores)
    # The numpy globals were allowed for that one load only: weight-only loading is unchanged.
    assert not [g for g in torch.serialization.get_safe_globals() if "numpy" in str(g)]
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        torch.load(path, weights_only=True)


def test_an_mmpose_0x_checkpoint_loads_through_mmposes_key_renaming(image, tmp_path):
    # The official hourglass weights are mmpose 0.x files: head weights under keypoint_head.*,
    # numpy 1 pickle names, no per-module versions.
    original = random_detector("hourglass52-mpii")
    state = {k.replace("head.", "keypoint_head.", 1): v for k, v in original.model.state_dict().items()}
    assert any(k.startswith("keypoint_head.") for k in state)
    path = tmp_path / "hourglass52_mpii_256x256.pth"
    torch.save(
        {"meta": {"epoch": np.int64(210)}, "state_dict": state}, path, pickle_module=legacy_numpy_pickle_module()
    )
    reloaded = MMPoseDetector("hourglass52-mpii", path).detect(image)[0]
    np.testing.assert_array_equal(reloaded.keypoints, original.detect(image)[0].keypoints)


def test_flip_test_can_be_turned_off(image, tmp_path):
    original = random_detector("hrnet-w32-coco")
    path = save_like_openmmlab(original.model, tmp_path / "hrnet.pth")
    unflipped = MMPoseDetector("hrnet-w32-coco", path, flip_test=False)
    assert original.model.test_cfg["flip_test"] and not unflipped.model.test_cfg["flip_test"]
    with_flip, without = original.detect(image)[0], unflipped.detect(image)[0]
    assert without.keypoints.shape == with_flip.keypoints.shape and np.isfinite(without.keypoints).all()
    assert not np.array_equal(without.scores, with_flip.scores)


def test_a_checkpoint_of_another_architecture_is_refused_in_one_line(tmp_path):
    hrnet = save_like_openmmlab(random_detector("hrnet-w32-coco").model, tmp_path / "hrnet.pth")
    with pytest.raises(SvmacError, match=r"does not fit mmpose model hourglass52-coco: \d+ missing keys") as error:
        MMPoseDetector("hourglass52-coco", hrnet)
    assert "\n" not in str(error.value)
    # Same backbone, 17 COCO heatmaps where MPII has 16: only the final layer's shape differs.
    coco = save_like_openmmlab(random_detector("hourglass52-coco").model, tmp_path / "hg_coco.pth")
    with pytest.raises(SvmacError, match=r"2 shape mismatches \(e\.g\. head\.\S+: checkpoint \[17, .*model \[16, "):
        MMPoseDetector("hourglass52-mpii", coco)


def test_missing_or_unreadable_checkpoints_and_unknown_models_are_refused(tmp_path):
    with pytest.raises(SvmacError, match="no such checkpoint file"):
        MMPoseDetector("hrnet-w32-coco", tmp_path / "missing.pth")
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    with pytest.raises(SvmacError, match="not a checkpoint that weight-only loading can read"):
        MMPoseDetector("hrnet-w32-coco", tmp_path / "notes.pth")
    torch.save({"state_dict": {"w": torch.zeros(1)}, "model": torch.nn.Linear(1, 1)}, tmp_path / "pickled.pth")
    with pytest.raises(SvmacError, match="Unsupported global"):
        MMPoseDetector("hrnet-w32-coco", tmp_path / "pickled.pth")
    with pytest.raises(SvmacError, match="no mmpose checkpoint given"):
        MMPoseDetector("hrnet-w32-coco")
    with pytest.raises(SvmacError, match="unknown mmpose model 'resnet-9000'"):
        MMPoseDetector("resnet-9000", random_weights=True)


def test_an_mmdet_person_detector_supplies_the_boxes(image, tmp_path):
    import mmpose
    from mmdet.apis import init_detector

    from detector_adapters.mmpose_adapter import PERSON_DETECTOR_PRESETS, _package_file

    config = _package_file(mmpose.__file__, "demo", "mmdetection_cfg", PERSON_DETECTOR_PRESETS["rtmdet-nano-person"])
    torch.manual_seed(0)
    detector = init_detector(str(config), device="cpu")
    # Random weights give no box above the config's 0.05 threshold, or degenerate ones. Make
    # every anchor a confident person (class bias 4) with a valid box, 2 strides to each side.
    with torch.no_grad():
        for name, parameter in detector.named_parameters():
            if "rtm_cls" in name and name.endswith("bias"):
                parameter.fill_(4.0)
            elif "rtm_reg" in name:
                parameter.fill_(2.0 if name.endswith("bias") else 0.0)
    path = save_like_openmmlab(detector, tmp_path / "rtmdet.pth")

    pose = MMPoseDetector(
        "hrnet-w32-coco",
        random_weights=True,
        person_detector="rtmdet-nano-person",
        person_checkpoint=path,
        max_people=3,
    )
    people = pose.detect(image)
    height, width = image.shape[:2]
    assert 1 <= len(people) <= 3
    for person in people:
        x0, y0, x1, y1 = person.bbox
        assert -1 <= x0 < x1 <= width + 1 and -1 <= y0 < y1 <= height + 1
        assert inside(person.keypoints, crop_region(pose, person.bbox))
    # Caller boxes take precedence over the detector.
    assert len(pose.detect(image, boxes=[[0, 0, 100, 100]])) == 1
    with pytest.raises(SvmacError, match="no person detector checkpoint"):
        MMPoseDetector("hrnet-w32-coco", tmp_path / "pose.pth", person_detector="rtmdet-nano-person")


def test_without_mmpose_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mmpose.apis", None)
    with pytest.raises(SvmacError, match=INSTALL_HINT):
        MMPoseDetector("hrnet-w32-coco", random_weights=True)


def test_importing_the_adapters_imports_no_openmmlab_package():
    code = (
        "import sys, detector_adapters, detector_adapters.mmpose_adapter\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('mmpose', 'mmdet', 'mmcv', 'mmengine')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_svmac_demo_runs_end_to_end_with_an_mmpose_checkpoint(tmp_path, capsys):
    """The app's --detector mmpose path: checkpoint file in, schema-valid JSON with mmpose's format out."""
    import json

    from app.demo import main
    from app.output import SCHEMA_PATH

    jsonschema = pytest.importorskip("jsonschema")
    checkpoint = save_like_openmmlab(random_detector("hrnet-w32-coco").model, tmp_path / "hrnet.pth")
    result = tmp_path / "pose.json"
    argv = [str(PHOTO), "--detector", "mmpose", "--mmpose-checkpoint", str(checkpoint), "--json", str(result)]
    assert main([*argv, "--no-figure", "--device", "cpu"]) == 0
    record = json.loads(result.read_text())
    jsonschema.validate(record, json.loads(SCHEMA_PATH.read_text()))
    assert record["detector"]["name"] == "mmpose" and record["detector"]["keypoint_format"] == "coco17"
    assert len(record["people"]) == 1  # the whole image is one person's box
    assert main([str(PHOTO), "--detector", "mmpose", "--no-figure"]) == 2
    assert "--mmpose-checkpoint" in capsys.readouterr().err
