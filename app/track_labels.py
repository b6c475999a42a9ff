"""Scoring a clip's track ids against hand-labelled people: for each labelled person, the id it was
given in each frame, the share of frames on its main id, and how often its id changed.

Labels are a few torso centres per person (midpoint of shoulders and hips, pixels) at labelled
frames, linearly interpolated between them (benchmarks/labels/pose2sim_cam0*_people.json). In each
frame the detected people and the labelled ones are paired one to one, nearest torso centres first
(the pairing with the least total distance), and a pair further apart than a radius is no pair: two
labelled people side by side cannot both claim the one skeleton found between them.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

TORSO = [1, 4, 11, 14]  # RHip, LHip, LShoulder, RShoulder


@dataclass(frozen=True)
class IdScore:
    ids: list[int | None]  # per frame, the track id found for the person (None: not found)
    main_id: int | None  # the id it had most often
    main_share: float  # frames on the main id / frames scored
    switches: int  # changes of id between successive frames where it was found


def labelled_centres(labels: dict, frame: int) -> dict[str, np.ndarray]:
    """Every labelled person's torso centre (2,) at a frame, interpolated between labelled frames."""
    return {
        name: np.array([np.interp(frame, labels["frames"], [point[axis] for point in points]) for axis in (0, 1)])
        for name, points in labels["people"].items()
    }


def score_ids(record: dict, labels: dict, radius_px: float, first_frame: int = 0) -> dict[str, IdScore]:
    """record: a clip JSON (svmac-pose 2, kind clip) whose frame 0 is the labelled clip's first_frame."""
    ids: dict[str, list[int | None]] = {name: [] for name in labels["people"]}
    for frame in record["frames"]:
        track_ids = [p["id"] for p in frame["people"]]
        centres = np.array([np.array(p["keypoints_2d"])[TORSO].mean(0) for p in frame["people"]]).reshape(-1, 2)
        labelled = labelled_centres(labels, first_frame + frame["index"])
        names = list(labelled)
        distances = np.linalg.norm(np.stack(list(labelled.values()))[:, None] - centres[None], axis=-1)  # (labels, N)
        paired = dict.fromkeys(names)
        for row, column in zip(*linear_sum_assignment(np.where(distances < radius_px, distances, 1e9))):
            if distances[row, column] < radius_px:
                paired[names[row]] = track_ids[column]
        for name in names:
            ids[name].append(paired[name])
    scores = {}
    for name, per_frame in ids.items():
        found = [i for i in per_frame if i is not None]
        main_id = max(set(found), key=found.count) if found else None
        switches = sum(a != b for a, b in zip(found, found[1:]))
        scores[name] = IdScore(per_frame, main_id, found.count(main_id) / len(per_frame) if found else 0.0, switches)
    return scores
