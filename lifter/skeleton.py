"""The Human3.6M-17 skeleton the lifter works on: joint order, bones, symmetric pairs."""

JOINT_NAMES: tuple[str, ...] = (
    "Hip",  # 0, root
    "RHip",  # 1
    "RKnee",  # 2
    "RFoot",  # 3
    "LHip",  # 4
    "LKnee",  # 5
    "LFoot",  # 6
    "Spine",  # 7
    "Thorax",  # 8
    "Neck/Nose",  # 9
    "Head",  # 10
    "LShoulder",  # 11
    "LElbow",  # 12
    "LWrist",  # 13
    "RShoulder",  # 14
    "RElbow",  # 15
    "RWrist",  # 16
)
NUM_JOINTS = len(JOINT_NAMES)
ROOT = 0

# Parent of each joint (-1 for the root); a bone joins a joint to its parent.
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
BONES: tuple[tuple[int, int], ...] = tuple((p, j) for j, p in enumerate(PARENTS) if p >= 0)

# The two kinematic parts a part-split generator lifts separately (model.PartGenerator): the legs
# and the upper body, both with the root, whose depth is fixed at 0.
LEG_JOINTS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
UPPER_BODY_JOINTS: tuple[int, ...] = (0, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)

LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 14, 15, 16)
# Each joint's mirror image (left <-> right, the others onto themselves): the joint that takes
# its place when the picture is flipped horizontally.
MIRROR_JOINTS: tuple[int, ...] = (0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13)

# Left/right bone pairs of equal length (Eq. 21): hip, thigh, shin, clavicle, upper arm, forearm.
SYMMETRIC_BONES: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((0, 4), (0, 1)),
    ((4, 5), (1, 2)),
    ((5, 6), (2, 3)),
    ((8, 11), (8, 14)),
    ((11, 12), (14, 15)),
    ((12, 13), (15, 16)),
)

# Joints of the face/shoulder angle loss (Eq. 22-23): v = nose - neck, w = lshoulder - rshoulder.
# H36M-17 has no separate neck: its Thorax (8) is the base of the neck, Neck/Nose (9) the nose.
ANGLE_NOSE = 9
ANGLE_NECK = 8
ANGLE_LSHOULDER = 11
ANGLE_RSHOULDER = 14
