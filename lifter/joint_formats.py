"""Named tables that map every 2D/3D keypoint format the project reads to the Human3.6M-17
joints, and the function that applies them.

They live in lifter/ because both layers need them: the lifter's data loaders (the
Stacked-Hourglass detections of Human3.6M, the MPII and LSPET 2D training poses) and the
detector adapters (detector_adapters/keypoint_mapping.py), and a lower layer never imports a
higher one.

Each H36M-17 joint is an affine combination of source joints: weights sum to 1 (so the rule
moves with the person, whatever the image origin), and a few are negative where a joint lies
beyond its sources (e.g. Head above the eyes, away from the nose). A derived joint is no more
confident than its least confident source, and it is absent (NaN, score 0) when any of its
sources is absent. Where each rule comes from and how far it lands from Human3.6M's own joint:
docs/keypoint_mapping.md.
"""

from dataclasses import dataclass

import numpy as np

from lifter.skeleton import JOINT_NAMES, NUM_JOINTS

H36M17_NAMES: tuple[str, ...] = JOINT_NAMES
H36M17 = H36M17_NAMES

MPII16_NAMES: tuple[str, ...] = (
    "RAnkle", "RKnee", "RHip", "LHip", "LKnee", "LAnkle", "Pelvis", "Thorax",
    "UpperNeck", "HeadTop", "RWrist", "RElbow", "RShoulder", "LShoulder", "LElbow", "LWrist",
)  # fmt: skip

# COCO keypoint order (person category "keypoints" of the COCO annotation files).
COCO17_NAMES: tuple[str, ...] = (
    "Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow",
    "LWrist", "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle",
)  # fmt: skip

# Leeds Sports Pose order (joints.mat rows); its Neck is MPII's upper neck (see LSP14_TO_H36M17).
LSP14_NAMES: tuple[str, ...] = (
    "RAnkle", "RKnee", "RHip", "LHip", "LKnee", "LAnkle", "RWrist", "RElbow", "RShoulder",
    "LShoulder", "LElbow", "LWrist", "Neck", "HeadTop",
)  # fmt: skip

# MediaPipe Pose landmark order (mediapipe.solutions.pose.PoseLandmark).
MEDIAPIPE33_NAMES: tuple[str, ...] = (
    "Nose", "LEyeInner", "LEye", "LEyeOuter", "REyeInner", "REye", "REyeOuter", "LEar", "REar",
    "LMouth", "RMouth", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
    "LPinky", "RPinky", "LIndex", "RIndex", "LThumb", "RThumb", "LHip", "RHip", "LKnee", "RKnee",
    "LAnkle", "RAnkle", "LHeel", "RHeel", "LFootIndex", "RFootIndex",
)  # fmt: skip

# MediaPipe-33 landmarks that are the COCO-17 keypoints, in COCO order.
MEDIAPIPE33_TO_COCO17: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
assert tuple(MEDIAPIPE33_NAMES[i] for i in MEDIAPIPE33_TO_COCO17) == COCO17_NAMES

Rule = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class KeypointMapping:
    source_format: str
    source_names: tuple[str, ...]
    # For each H36M-17 joint, in order: ((source joint name, weight), ...)
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if len(self.rules) != NUM_JOINTS:
            raise ValueError(f"{self.source_format}: {len(self.rules)} rules for {NUM_JOINTS} joints")
        for target, rule in zip(JOINT_NAMES, self.rules):
            unknown = [name for name, _ in rule if name not in self.source_names]
            if unknown:
                raise ValueError(f"{self.source_format} -> {target}: unknown source joints {unknown}")
            if abs(sum(weight for _, weight in rule) - 1.0) > 1e-9:
                raise ValueError(f"{self.source_format} -> {target}: weights do not sum to 1")

    def weight_matrix(self) -> np.ndarray:
        """(17, S) matrix W with h36m = W @ source."""
        weights = np.zeros((NUM_JOINTS, len(self.source_names)))
        for target, rule in enumerate(self.rules):
            for name, weight in rule:
                weights[target, self.source_names.index(name)] += weight
        return weights


def _direct(names: dict[str, str]) -> dict[str, Rule]:
    """H36M joint -> the one source joint at the same place."""
    return {target: ((source, 1.0),) for target, source in names.items()}


def _table(source_format: str, source_names: tuple[str, ...], rules: dict[str, Rule]) -> KeypointMapping:
    missing = set(JOINT_NAMES) - set(rules)
    if missing:
        raise ValueError(f"{source_format}: no rule for {sorted(missing)}")
    return KeypointMapping(source_format, source_names, tuple(rules[name] for name in JOINT_NAMES))


# The limbs every format names alike. Human3.6M's "Foot" joints are the ankles.
_LIMBS = _direct({
    "RHip": "RHip", "RKnee": "RKnee", "RFoot": "RAnkle", "LHip": "LHip", "LKnee": "LKnee", "LFoot": "LAnkle",
    "LShoulder": "LShoulder", "LElbow": "LElbow", "LWrist": "LWrist",
    "RShoulder": "RShoulder", "RElbow": "RElbow", "RWrist": "RWrist",
})  # fmt: skip


# MPII-16 (also the Stacked-Hourglass order of the H36M detections) -> H36M-17.
# MPII's thorax sits between the hips and shoulders' midpoint, its upper neck where H36M puts
# the Thorax; H36M's Spine, Neck/Nose and Head lie between MPII joints. The weights of the
# three blended joints are least-squares fits of the SH detections to the ground-truth 2D of
# H36M S1, S5-S8 (benchmarks/fit_mpii_derived_joints.py, reports/mpii_derived_joints.md).
_MPII_TRUNK_AND_HEAD: dict[str, Rule] = {
    "Hip": (("Pelvis", 1.0),),
    "Spine": (("Pelvis", 0.42), ("Thorax", 0.58)),
    "Thorax": (("UpperNeck", 1.0),),
    "Neck/Nose": (("UpperNeck", 0.78), ("HeadTop", 0.22)),
    "Head": (("UpperNeck", 0.52), ("HeadTop", 0.48)),
}
MPII16_TO_H36M17 = _table("mpii16", MPII16_NAMES, {**_LIMBS, **_MPII_TRUNK_AND_HEAD})

# MPII annotations already put in Human3.6M-17's order (shared/data/mpii2d), but with MPII's
# meaning of the upper body, as the Stacked-Hourglass detections have it (measured there: joint 0
# is the hips' midpoint, joint 9 exactly the midpoint of 8 and 10): 7 = MPII thorax, 8 = upper
# neck, 10 = head top. Mapped by the MPII-16 rules, so they land where the SH input's joints do.
MPII_IN_H36M_ORDER_NAMES: tuple[str, ...] = (
    "Pelvis", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Thorax", "UpperNeck",
    "UpperNeckHeadTopMidpoint", "HeadTop", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
)  # fmt: skip
MPII_IN_H36M_ORDER_TO_H36M17 = _table(
    "mpii_in_h36m_order", MPII_IN_H36M_ORDER_NAMES, {**_LIMBS, **_MPII_TRUNK_AND_HEAD}
)

# Spine from the hips' and shoulders' midpoints, P + 0.55 (S - P): the least-squares weight on
# Human3.6M's own joints is 0.545 (73k ground-truth poses), on MPII annotations through the
# MPII-16 rule 0.579 (benchmarks/fit_face_derived_joints.py, reports/face_derived_joints.md).
# Shared by the LSP, COCO and MediaPipe tables, which have no pelvis or MPII thorax.
_SPINE: Rule = (("LHip", 0.225), ("RHip", 0.225), ("LShoulder", 0.275), ("RShoulder", 0.275))

# LSP-14 -> H36M-17. LSP's Neck is annotated where MPII puts the upper neck (both sit 0.1 torso
# sizes above the shoulders' midpoint, reports/face_derived_joints.md), so Thorax, Neck/Nose and
# Head reuse the fitted MPII rules with Neck for UpperNeck. Hip is the hips' midpoint (MPII's
# pelvis is, to 0.5 px on 19,919 MPII poses; so is Human3.6M's Hip of its own hips).
LSP14_TO_H36M17 = _table(
    "lsp14",
    LSP14_NAMES,
    {
        **_LIMBS,
        "Hip": (("LHip", 0.5), ("RHip", 0.5)),
        "Spine": _SPINE,
        "Thorax": (("Neck", 1.0),),
        "Neck/Nose": (("Neck", 0.78), ("HeadTop", 0.22)),
        "Head": (("Neck", 0.52), ("HeadTop", 0.48)),
    },
)

# COCO-17 -> H36M-17. COCO has a face (nose, eyes, ears) but no neck and no head top. Each face
# rule has one weight, fitted on MediaPipe's points in LSP, MPII and Human3.6M photos against
# Human3.6M's own joints (4 frames) and the joints the LSP / MPII tables derive from annotated
# necks and head tops (reports/face_derived_joints.md; median errors there, in torso sizes):
# - Thorax = S + 0.3 (Nose - S), S the shoulders' midpoint: Human3.6M's Thorax is the base of
#   the neck, above the shoulders' line (mmpose's shoulders' midpoint is 0.08-0.15 torso sizes
#   low, the fitted rule 0.03-0.08).
# - Neck/Nose = S + 0.66 (E - S), E the eyes' midpoint: H36M's "Neck/Nose" is the top of the
#   neck, below the face (mmpose's nose is 0.06-0.16 off, the fitted rule 0.04-0.07).
# - Head = E, as in mmpose: the forms that beat it leave-one-out (by 0.007 torso sizes at most)
#   all use the ears, which COCO leaves unannotated in most side views (8 of its 12 fixture people).
_COCO_TRUNK_AND_FACE: dict[str, Rule] = {
    "Hip": (("LHip", 0.5), ("RHip", 0.5)),
    "Spine": _SPINE,
    "Thorax": (("LShoulder", 0.35), ("RShoulder", 0.35), ("Nose", 0.3)),
    "Neck/Nose": (("LShoulder", 0.17), ("RShoulder", 0.17), ("LEye", 0.33), ("REye", 0.33)),
    "Head": (("LEye", 0.5), ("REye", 0.5)),
}
COCO17_TO_H36M17 = _table("coco17", COCO17_NAMES, {**_LIMBS, **_COCO_TRUNK_AND_FACE})

# MediaPipe-33 -> H36M-17: the COCO rules on MediaPipe's COCO subset, so that both formats
# put a joint at the same place (MediaPipe's extra face, hand and foot points are not used).
MEDIAPIPE33_TO_H36M17 = _table("mediapipe33", MEDIAPIPE33_NAMES, {**_LIMBS, **_COCO_TRUNK_AND_FACE})

# MPI-INF-3DHP's 17-joint skeleton, also MuPoTS-3D's (shared/data/mupots/README.md §4).
MPI_INF_3DHP17_NAMES: tuple[str, ...] = (
    "HeadTop", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Pelvis", "Spine", "Head",
)  # fmt: skip

# MPI-INF-3DHP-17 -> H36M-17, the rules behind shared/data/mupots/mupots_h36m17.npz (its README
# §8 measures them): the pelvis is the hips' midpoint, as H36M's Hip; 3DHP's neck sits where H36M
# puts the Thorax (18 mm apart). 3DHP has no nose: Neck/Nose is its "head" point (56 mm off), and
# H36M's Head, well below the top of the head, is the mean of "head" and the head top (9 mm off).
MPI_INF_3DHP17_TO_H36M17 = _table(
    "mpi_inf_3dhp17",
    MPI_INF_3DHP17_NAMES,
    {
        **_LIMBS,
        "Hip": (("Pelvis", 1.0),),
        "Spine": (("Spine", 1.0),),
        "Thorax": (("Neck", 1.0),),
        "Neck/Nose": (("Head", 1.0),),
        "Head": (("Head", 0.5), ("HeadTop", 0.5)),
    },
)
# The H36M-17 joints 3DHP has a counterpart of (MuPoTS's 15 scored joints): all but the
# approximated Neck/Nose and Head.
MPI_INF_3DHP17_SHARED: tuple[str, ...] = tuple(name for name in JOINT_NAMES if name not in ("Neck/Nose", "Head"))

H36M17_TO_H36M17 = _table("h36m17", H36M17_NAMES, {name: ((name, 1.0),) for name in JOINT_NAMES})


def map_keypoints(
    mapping: KeypointMapping, keypoints: np.ndarray, scores: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map (..., S, D) keypoints (D = 2 pixels, or 3 for world coordinates) and (..., S) scores
    to H36M-17: (..., 17, D), (..., 17).

    A mapped joint's score is the minimum score of the sources it uses (weight != 0: negative
    weights count too). A source with a NaN coordinate is absent: every joint that uses it is
    NaN with score 0, and joints that do not use it are unaffected. Without scores every
    present source counts as fully confident.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim < 2 or keypoints.shape[-2] != len(mapping.source_names):
        raise ValueError(
            f"{mapping.source_format} keypoints must be (..., {len(mapping.source_names)}, D), got {keypoints.shape}"
        )
    weights = mapping.weight_matrix()  # (17, S)
    used = weights != 0  # (17, S)
    absent = np.isnan(keypoints).any(-1)  # (..., S)
    # NaN * 0 is NaN: zero the absent sources for the sum, then mark the joints that use them.
    mapped = np.einsum("ts,...sd->...td", weights, np.where(absent[..., None], 0.0, keypoints))
    missing = (absent[..., None, :] & used).any(-1)  # (..., 17)
    mapped[missing] = np.nan
    if scores is None:
        scores = np.ones(keypoints.shape[:-1])
    scores = np.asarray(scores, dtype=np.float64)
    mapped_scores = np.where(used, scores[..., None, :], np.inf).min(-1)  # (..., 17)
    mapped_scores[missing] = 0.0
    return mapped, mapped_scores
