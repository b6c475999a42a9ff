"""The real Human3.6M camera model: world -> camera frame -> distorted pixels."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    R: np.ndarray  # (3, 3) world -> camera rotation
    T: np.ndarray  # (3,) camera centre in world millimetres
    f: np.ndarray  # (2,) focal length in pixels
    c: np.ndarray  # (2,) principal point in pixels
    k: np.ndarray  # (3,) radial distortion
    p: np.ndarray  # (2,) tangential distortion


def world_to_camera(points_world: np.ndarray, cam: Camera) -> np.ndarray:
    """X_c = R (X - T). (..., 3) mm -> (..., 3) mm in the camera frame (x right, y down, z forward)."""
    return (points_world - cam.T) @ cam.R.T


def camera_to_pixels(points_cam: np.ndarray, cam: Camera) -> np.ndarray:
    """Project camera-frame points with radial and tangential distortion. (..., 3) -> (..., 2) px"""
    x = points_cam[..., :2] / points_cam[..., 2:3]  # (..., 2)
    r2 = (x**2).sum(-1, keepdims=True)  # (..., 1)
    radial = 1 + cam.k[0] * r2 + cam.k[1] * r2**2 + cam.k[2] * r2**3
    tangential = cam.p[0] * x[..., 1:2] + cam.p[1] * x[..., 0:1]
    distorted = x * (radial + tangential) + np.array([cam.p[1], cam.p[0]]) * r2
    return cam.f * distorted + cam.c
