"""The default detector: MediaPipe Pose 0.10.21, whose model ships inside the wheel (offline).

One person per image, 33 landmarks with a visibility score each, and MediaPipe's own 3D
world landmarks (metres, origin between the hips), kept as a peer to compare the lifter with.
"""

import contextlib
import ctypes
import os
from collections.abc import Iterator

import numpy as np

from detector_adapters.base import DetectedPerson, bbox_of
from lifter.errors import SvmacError

# MediaPipe finds fewer people in small photos (LSP's ~200 px ones): upscaling them so the long
# side is at least this many pixels found 2 more of the 40 LSP people (benchmarks/lsp_detector.py).
MIN_LONG_SIDE = 512


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence TFLite's C++ start-up chatter ("Created TensorFlow Lite XNNPACK delegate ..."),
    which bypasses Python's logging and would bury the tool's own output."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        # TFLite writes through a buffered C stream: flush it while it still points at /dev/null.
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 2)
        os.close(saved)


class MediaPipeDetector:
    name = "mediapipe"
    keypoint_format = "mediapipe33"

    def __init__(self, min_detection_confidence: float = 0.5) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            with quiet_stderr():
                from mediapipe.python.solutions import pose as mp_pose
        except ImportError as err:
            raise SvmacError(
                f"MediaPipe is not installed ({err}): run bash scripts/install.sh, "
                "or pip install --no-deps mediapipe==0.10.21"
            ) from None
        # model_complexity 1 is the model inside the wheel; 0 and 2 would try to download one.
        with quiet_stderr():
            self._pose = mp_pose.Pose(
                static_image_mode=True,
                model_complexity=1,
                enable_segmentation=False,
                min_detection_confidence=min_detection_confidence,
            )
            # The graph starts its interpreters (and their chatter) on the first frame, in its own
            # threads: run one blank frame now, while stderr is silenced.
            self._pose.process(np.zeros((64, 64, 3), np.uint8))

    def close(self) -> None:
        self._pose.close()

    def detect(self, image_rgb: np.ndarray) -> list[DetectedPerson]:
        """image_rgb: (H, W, 3) uint8 RGB -> zero or one person in mediapipe33 format."""
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image_rgb.shape} {image_rgb.dtype}")
        height, width = image_rgb.shape[:2]
        scale = max(1.0, MIN_LONG_SIDE / max(height, width))
        if scale > 1.0:
            import cv2

            image_rgb = cv2.resize(image_rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        with quiet_stderr():  # per-frame glog warnings (e.g. "Using NORM_RECT without IMAGE_DIMENSIONS")
            result = self._pose.process(np.ascontiguousarray(image_rgb))
        if result.pose_landmarks is None:
            return []
        landmarks = result.pose_landmarks.landmark
        # Normalised coordinates are fractions of the (upscaled) image: x * W is in its pixels.
        keypoints = np.array([[lm.x * width, lm.y * height] for lm in landmarks])  # (33, 2)
        # Hidden joints are extrapolated, sometimes far outside the image: visibility says so.
        scores = np.clip(np.array([lm.visibility for lm in landmarks]), 0.0, 1.0)  # (33,)
        world = np.array([[lm.x, lm.y, lm.z] for lm in result.pose_world_landmarks.landmark])  # (33, 3) m
        return [
            DetectedPerson(
                keypoints=keypoints,
                scores=scores,
                bbox=bbox_of(keypoints, scores, min_score=0.5),
                keypoint_format=self.keypoint_format,
                world_keypoints=world,
            )
        ]
