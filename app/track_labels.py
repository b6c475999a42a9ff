"""Scoring a clip's track ids against hand-labelled people: for each labelled person, the id it was
given in each frame, the share of frames on its main id, and how often its id changed.

Labels are a few torso centres per person (midpoint of shoulders and hips, pixels) at labelled
frames, linearly interpolated between them (examples/pose2sim_cam01_people.json). A detected
person belongs to the labelled person whose centre is nearest its own torso centre, within a radius.
"""

from dataclasses import dataclass

import numpy as np

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
        centres = {p["id"]: np.array(p["keypoints_2d"])[TORSO].mean(0) for p in frame["people"]}  # id -> (2,)
        for name, where in labelled_centres(labels, first_frame + frame["index"]).items():
            distances = {track_id: float(np.linalg.norm(c - where)) for track_id, c in centres.items()}
            nearest = min(distances, key=distances.get, default=None)
            ids[name].append(nearest if nearest is not None and distances[nearest] < radius_px else None)
    scores = {}
    for name, per_frame in ids.items():
        found = [i for i in per_frame if i is not None]
        main_id = max(set(found), key=found.count) if found else None
        switches = sum(a != b for a, b in zip(found, found[1:]))
        scores[name] = IdScore(per_frame, main_id, found.count(main_id) / len(per_frame) if found else 0.0, switches)
    return scores
