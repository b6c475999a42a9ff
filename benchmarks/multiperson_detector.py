"""Several people per frame with the default detector on the real 1088x1920 pose2sim clips: who is found,
and how long `MediaPipeDetector.detect` and `.detect_in_boxes` take per call and per person.

For each of the four clips (../shared/data/video/pose2sim_multiperson/cam0N.mp4, 100 frames each)
every STEP-th frame is searched with `detect` (the person detector, then landmarks per person), and
the next frame with `detect_in_boxes` given the boxes just found (what the video path does between
searches). The boxes' people are compared with what `detect` finds on that next frame: the median
distance of their joints visible in both, in person-box diagonals. Settings: the video's (no quarter
turns: people stand upright), with one or two tile sizes, and the refining landmark pass on or off; the
photo default and the photo detector's --thorough (quarter turns of every frame): the people found
must be the same.

Writes reports/multiperson_detector.md and .json. Usage:
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/multiperson_detector.py [--data DIR] [--step 10]
"""

import argparse
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np

from detector_adapters.mediapipe_adapter import MediaPipeDetector
from lifter.checkpoint import write_report
from lifter.data import data_root

CLIPS = ("cam01", "cam02", "cam03", "cam04")
# MediaPipeDetector keyword arguments measured, by name.
SETTINGS: dict[str, dict] = {
    "video: whole frame only, refined": {"turns": (), "tiles": 0},
    "video: tiles 1, refined": {"turns": (), "tiles": 1},
    "video: tiles 1, one landmark pass": {"turns": (), "tiles": 1, "refine": False},
    "video: tiles 2 (small people), refined": {"turns": (), "tiles": 2},
    "photo default (upright views; every view only where nobody is found)": {},
    "photo --thorough (quarter turns of every frame too)": {"thorough": True},
}


def sampled_frames(path: Path, step: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frame i, frame i + 1) RGB pairs for i = 0, step, 2 step, ... (only those kept in memory)."""
    capture = cv2.VideoCapture(str(path))
    pairs, index, previous = [], 0, None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if index % step == 1 and previous is not None:
            pairs.append((previous, rgb))
        previous = rgb if index % step == 0 else None
        index += 1
    capture.release()
    return pairs


def timed(call, *args):
    """-> (result, wall seconds, process CPU seconds)"""
    start, cpu = time.perf_counter(), time.process_time()
    result = call(*args)
    return result, time.perf_counter() - start, time.process_time() - cpu


def agreement(found, reference) -> float | None:
    """Median distance of the joints visible in both, in the reference's box diagonals (nearest reference)."""
    best = None
    for person in reference:
        both = (person.scores > 0.5) & (found.scores > 0.5)
        if both.sum() < 5:
            continue
        diagonal = np.linalg.norm(person.bbox[2:] - person.bbox[:2])
        distance = float(np.median(np.linalg.norm(person.keypoints[both] - found.keypoints[both], axis=-1)) / diagonal)
        best = distance if best is None else min(best, distance)
    return best


def measure(detector: MediaPipeDetector, clips: dict[str, list]) -> dict:
    people_per_frame, detect_ms, detect_cpu, boxes_ms, boxes_cpu, distances, lost = {}, [], [], [], [], [], 0
    for clip, pairs in clips.items():
        counts = []
        for frame, following in pairs:
            people, wall, cpu = timed(detector.detect, frame)
            counts.append(len(people))
            detect_ms.append(1000 * wall / max(1, len(people)))
            detect_cpu.append(1000 * cpu / max(1, len(people)))
            if not people:
                continue
            in_boxes, wall, cpu = timed(detector.detect_in_boxes, following, np.array([p.bbox for p in people]))
            boxes_ms.append(1000 * wall / len(people))
            boxes_cpu.append(1000 * cpu / len(people))
            reference = detector.detect(following)
            for found in in_boxes:
                if found is None:
                    lost += 1
                    continue
                distance = agreement(found, reference)
                distances.append(np.inf if distance is None else distance)
        people_per_frame[clip] = counts
    rounded = lambda values: round(float(np.median(values)), 1)  # noqa: E731
    return {
        "people_per_frame": people_per_frame,
        "detect_ms_per_person": rounded(detect_ms[1:]),  # the first call pays the graphs' start-up
        "detect_cpu_ms_per_person": rounded(detect_cpu[1:]),
        "detect_in_boxes_ms_per_person": rounded(boxes_ms),
        "detect_in_boxes_cpu_ms_per_person": rounded(boxes_cpu),
        "detect_in_boxes_p90_ms_per_person": round(float(np.percentile(boxes_ms, 90)), 1),
        "boxes_given": len(distances) + lost,
        "boxes_with_nobody": lost,
        "agreement_median_diagonals": round(float(np.median(distances)), 4),
        "agreement_p90_diagonals": round(float(np.percentile(distances, 90)), 4),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--step", type=int, default=10, help="search every STEP-th frame (default 10)")
    p.add_argument("--out", type=Path, default=Path("reports/multiperson_detector.md"))
    args = p.parse_args()
    folder = data_root(args.data) / "video" / "pose2sim_multiperson"
    load_at_start = round(os.getloadavg()[0], 2)
    clips = {clip: sampled_frames(folder / f"{clip}.mp4", args.step) for clip in CLIPS}
    results = {}
    for name, options in SETTINGS.items():
        detector = MediaPipeDetector(**options)
        results[name] = {"options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}}
        results[name].update(measure(detector, clips))
        detector.close()
    report = {
        "clips": {clip: len(pairs) for clip, pairs in clips.items()},
        "frame_size_wh": [int(clips["cam01"][0][0].shape[1]), int(clips["cam01"][0][0].shape[0])],
        "step": args.step,
        "settings": results,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.python_implementation()} "
        f"{platform.python_version()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        "load_average_1min_at_start": load_at_start,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    write_reports(args.out, report)


def write_reports(out: Path, r: dict) -> None:
    width, height = r["frame_size_wh"]
    lines = [
        "# Several people per frame: MediaPipeDetector on the pose2sim clips",
        "",
        "Produced by `OMP_NUM_THREADS=1 SVMAC_DATA=../shared/data nice -n 10 python "
        "benchmarks/multiperson_detector.py` "
        "(numbers also in `multiperson_detector.json`).",
        "",
        f"Data: the four real {width}x{height} clips of `../shared/data/video/pose2sim_multiperson/` (two people in "
        "front, a third at the back of some views), every "
        f"{r['step']}th frame searched with `detect` ({', '.join(f'{c}: {n}' for c, n in r['clips'].items())} frames), "
        "the frame after each searched with `detect_in_boxes` given the boxes just found. Agreement: the median "
        "distance between the joints `detect_in_boxes` gives and those `detect` finds on the same frame (visible in "
        "both), in person-box diagonals. Times: median per call divided by the people found (wall clock; in "
        "brackets the process's CPU time). Machine: "
        f"{r['machine']}; 1-minute load average {r['load_average_1min_at_start']} at the start and "
        f"{r['load_average_1min_at_end']} at the end: other jobs shared these "
        "2 cores while it was measured, so wall times are inflated and vary between runs; the CPU times are less "
        "affected but vary too (they differed by up to half between two runs of this script).",
        "",
        "| setting | people per searched frame (cam01 / 02 / 03 / 04) | people, all searched frames | detect ms / "
        "person | detect_in_boxes ms / person (p90) | boxes with nobody | agreement median / p90 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in r["settings"].items():
        counts = " / ".join(
            f"{min(c)}-{max(c)}" if min(c) != max(c) else f"{min(c)}" for c in s["people_per_frame"].values()
        )
        lines.append(
            f"| {name} `{s['options']}` | {counts} | {sum(map(sum, s['people_per_frame'].values()))} | "
            f"{s['detect_ms_per_person']:.0f} "
            f"({s['detect_cpu_ms_per_person']:.0f}) | "
            f"{s['detect_in_boxes_ms_per_person']:.0f} ({s['detect_in_boxes_cpu_ms_per_person']:.0f}; p90 "
            f"{s['detect_in_boxes_p90_ms_per_person']:.0f}) | {s['boxes_with_nobody']} of {s['boxes_given']} | "
            f"{s['agreement_median_diagonals']:.3f} / {s['agreement_p90_diagonals']:.3f} |"
        )
    lines += [
        "",
        "Tiles 1 adds three square views the frame's width down the portrait frame (the detector otherwise sees "
        "the whole frame shrunk to 127x224 px). Tiles 2 adds square views half the frame's width: it finds the "
        "small woman at the back of cam01 (tests/test_mediapipe_adapter.py), and more people and false ones in "
        "the other clips (most are gone in the next frame's boxes: \"boxes with nobody\"), at several times the cost "
        "of a search; a video can use it on the frames where it searches for new people only. The photo default "
        "looks at the quarter turns only where the upright views find nobody; --thorough looks at them on every "
        "frame, at about twice the person detector's cost.",
        "",
    ]
    write_report(out, "\n".join(lines), r)


if __name__ == "__main__":
    main()
