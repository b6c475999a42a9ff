"""How a skeleton looks in every svmac picture (matplotlib figures and fast OpenCV frames alike).

The person's left limbs blue, right limbs orange, spine/head grey; a joint below the score threshold is
an x and its bones dashed. 3D poses are shown by one orthographic projection (`project_view`), so both
renderers put the floor, the camera's side and "head up" in the same place.
"""

import math

import numpy as np

from lifter.skeleton import BONES, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS

LEFT_COLOR = "#1f6fd1"
RIGHT_COLOR = "#f07d12"
CENTER_COLOR = "#6e6e6e"
# matplotlib's (offset, (on, off)) dash pattern, lengths in line widths; the OpenCV renderer reads the same.
LOW_SCORE_DASH = (0, (2.5, 1.6))


def _side_color(joint: int) -> str:
    if joint in LEFT_JOINTS:
        return LEFT_COLOR
    if joint in RIGHT_JOINTS:
        return RIGHT_COLOR
    return CENTER_COLOR


# A bone takes the side of its child joint: hip-to-left-hip and thorax-to-left-shoulder are left limbs.
JOINT_COLORS: tuple[str, ...] = tuple(_side_color(j) for j in range(NUM_JOINTS))
BONE_COLORS: tuple[str, ...] = tuple(_side_color(child) for _, child in BONES)


def project_view(
    points: np.ndarray, azimuth_deg: float = 0.0, elevation_deg: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Orthographic view of camera-frame points. (N, 3) -> panel coordinates (N, 2) and depth (N,).

    Panel coordinates are u to the right and v up. Azimuth 0, elevation 0 is the photo's own view
    (u = x, v = -y). A positive azimuth walks the viewer around the vertical axis towards the camera's
    right (+x) side: at 90 degrees the photo's camera is on the panel's left. A positive elevation raises
    the viewer to look down (90 = top view, far points up). Depth grows away from the viewer.
    """
    points = np.asarray(points, dtype=np.float64)
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    x, up, z = points[..., 0], -points[..., 1], points[..., 2]
    u = x * math.cos(az) + z * math.sin(az)
    depth_flat = -x * math.sin(az) + z * math.cos(az)
    v = up * math.cos(el) + depth_flat * math.sin(el)
    depth = depth_flat * math.cos(el) - up * math.sin(el)
    return np.stack([u, v], axis=-1), depth
