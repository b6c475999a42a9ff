"""In-the-wild 2D training poses (MPII, LSPET) mapped to H36M-17: the tables on real rows."""

import numpy as np
import pytest

from lifter.errors import SvmacError
from lifter.joint_formats import MPII16_NAMES, MPII16_TO_H36M17, MPII_IN_H36M_ORDER_NAMES, map_keypoints
from lifter.skeleton import JOINT_NAMES
from lifter.wild_2d import LSPET_FILE, MPII_FILE, load_lspet_2d, load_mpii_2d, load_wild_2d, parse_sources

H36M = {name: i for i, name in enumerate(JOINT_NAMES)}


@pytest.fixture(scope="module")
def wild_root(data_dir):
    if not ((data_dir / MPII_FILE).is_file() and (data_dir / LSPET_FILE).is_file()):
        pytest.skip("no mpii2d/ or lspet2d/ in SVMAC_DATA")
    return data_dir


def test_mpii_first_row_by_hand(wild_root):
    """MPII image 015601864.jpg's person: limbs copied, the upper body from MPII's meaning
    (7 thorax, 8 upper neck, 10 head top), not taken as Human3.6M's joints of the same index."""
    raw = np.load(wild_root / MPII_FILE)["poses"][0].astype(np.float64)
    mapped = load_mpii_2d(wild_root)[0]
    np.testing.assert_allclose(mapped[H36M["Hip"]], [610.0, 187.0], atol=1e-3)
    np.testing.assert_allclose(mapped[H36M["Spine"]], [631.46, 180.62], atol=1e-3)  # 0.42 pelvis + 0.58 thorax
    np.testing.assert_allclose(mapped[H36M["Thorax"]], raw[8], atol=1e-3)  # the upper neck, not raw[7]
    np.testing.assert_allclose(mapped[H36M["Head"]], 0.52 * raw[8] + 0.48 * raw[10], atol=1e-3)
    np.testing.assert_allclose(mapped[H36M["Neck/Nose"]], 0.78 * raw[8] + 0.22 * raw[10], atol=1e-3)
    for limb in ("RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "LShoulder", "LElbow", "LWrist",
                 "RShoulder", "RElbow", "RWrist"):  # fmt: skip
        np.testing.assert_allclose(mapped[H36M[limb]], raw[H36M[limb]], atol=1e-3, err_msg=limb)
    assert not np.allclose(mapped[H36M["Head"]], raw[10])  # the head top is not H36M's Head


def test_mpii_in_h36m_order_maps_like_the_mpii16_table(wild_root):
    """The file's joints put back in MPII-16 order and mapped by the detector table give the same
    poses: the wild MPII data lands where the Stacked-Hourglass input's joints do."""
    raw = np.load(wild_root / MPII_FILE)["poses"][:500].astype(np.float64)
    as_mpii16 = raw[:, [MPII_IN_H36M_ORDER_NAMES.index(n) for n in MPII16_NAMES]]
    expected, _ = map_keypoints(MPII16_TO_H36M17, as_mpii16)
    np.testing.assert_allclose(load_mpii_2d(wild_root)[:500], expected, atol=1e-3)


def test_lspet_keeps_only_fully_annotated_poses_and_maps_by_hand(wild_root):
    joints = np.load(wild_root / LSPET_FILE)["joints"]
    flags = joints[..., 2]
    # flag 0 marks an absent joint, its position a placeholder at x <= 0 (not an occluded best guess)
    assert (joints[..., 0][flags == 0] <= 0).all() and (joints[..., 0][flags == 1] > 0).all()
    mapped = load_lspet_2d(wild_root)
    assert mapped.shape == (3605, 17, 2) and np.isfinite(mapped).all()
    raw = joints[1, :, :2].astype(np.float64)  # im00002.jpg, the first complete pose (upside down)
    (r_ankle, r_knee, r_hip, l_hip, l_knee, l_ankle, r_wrist, r_elbow, r_shoulder, l_shoulder, l_elbow, l_wrist,
     neck, head_top) = raw  # fmt: skip
    np.testing.assert_allclose(mapped[0, H36M["Hip"]], (l_hip + r_hip) / 2, atol=1e-3)
    np.testing.assert_allclose(mapped[0, H36M["Spine"]],
                               0.225 * (l_hip + r_hip) + 0.275 * (l_shoulder + r_shoulder), atol=1e-3)  # fmt: skip
    np.testing.assert_allclose(mapped[0, H36M["Thorax"]], neck, atol=1e-3)
    np.testing.assert_allclose(mapped[0, H36M["Head"]], 0.52 * neck + 0.48 * head_top, atol=1e-3)
    np.testing.assert_allclose(mapped[0, H36M["RFoot"]], r_ankle, atol=1e-3)
    np.testing.assert_allclose(mapped[0, H36M["LWrist"]], l_wrist, atol=1e-3)
    np.testing.assert_allclose(mapped[0, H36M["RElbow"]], r_elbow, atol=1e-3)
    assert mapped[0, H36M["RFoot"], 1] < mapped[0, H36M["Head"], 1]  # a handstand: feet above the head


def test_sources_concatenate_in_the_order_given(wild_root):
    both = load_wild_2d(wild_root, ("lspet", "mpii"))
    assert both.shape == (3605 + 19919, 17, 2)
    np.testing.assert_array_equal(both[:3605], load_lspet_2d(wild_root))


def test_parse_sources():
    assert parse_sources("mpii, lspet") == ("mpii", "lspet")
    assert parse_sources("mpii,mpii") == ("mpii",)
    assert parse_sources("") == ()
    with pytest.raises(SvmacError, match="unknown in-the-wild 2D source coco"):
        parse_sources("mpii,coco")


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(SvmacError, match="not found"):
        load_mpii_2d(tmp_path)
