"""People tracked through the four pose2sim_multiperson clips by `svmac-demo CLIP --out-dir DIR
--no-figure`: tracks and frames per track for each clip, the time per frame and per frame and person
(wall clock and CPU), and on cam01 (hand-labelled torso centres, examples/pose2sim_cam01_people.json)
for every person in full view the share of frames on one id and the id switches. Writes
reports/video_tracking.md and .json.

    python benchmarks/video_tracking.py [--data DIR]      (DIR/video/pose2sim_multiperson; default $SVMAC_DATA)
"""

import argparse
import contextlib
import io
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from app.demo import EXAMPLE_CLIP, SUMMARY_NAME
from app.demo import main as demo_main
from app.track_labels import score_ids
from app.video import VideoOptions
from lifter.checkpoint import write_report

LABELS = EXAMPLE_CLIP.parent / "pose2sim_cam01_people.json"
RADIUS_PX = 200  # people in full view here are 400-1000 px tall, their torsos >= 360 px apart
CLIPS = ("cam01.mp4", "cam02.mp4", "cam03.mp4", "cam04.mp4")


def run_clip(path: Path) -> tuple[dict, dict, float]:
    """-> (the clip JSON, its summary.json entry, the CPU seconds of the whole run, models' start included)."""
    with tempfile.TemporaryDirectory() as out:
        argv = [str(path), "--out-dir", out, "--no-figure", "--quiet", "--device", "cpu"]
        cpu = time.process_time()
        with contextlib.redirect_stderr(io.StringIO()):
            status = demo_main(argv)
        cpu = time.process_time() - cpu
        if status != 0:
            raise SystemExit(f"svmac-demo failed on {path} (exit {status})")
        record = json.loads((Path(out) / f"{path.stem}.json").read_text())
        stats = json.loads((Path(out) / SUMMARY_NAME).read_text())["clips"][path.name]
    return record, stats, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA); without it only the bundled cam01 runs")
    p.add_argument("--out", type=Path, default=Path("reports") / "video_tracking")
    args = p.parse_args()
    data = args.data or os.environ.get("SVMAC_DATA")
    folder = Path(data) / "video" / "pose2sim_multiperson" if data else None
    clips = [folder / name for name in CLIPS] if folder and folder.is_dir() else [EXAMPLE_CLIP]
    load_start = os.getloadavg()[0]

    results, lines = {}, []
    for clip in clips:
        record, stats, cpu = run_clip(clip)
        tracks = {t["id"]: t["frames"] for t in record["tracks"]}
        people_frames = max(sum(tracks.values()), 1)
        long_tracks = {i: n for i, n in tracks.items() if n >= 0.5 * stats["frames"]}
        entry = {
            "frames": stats["frames"],
            "tracks": len(tracks),
            "frames_per_track": tracks,
            "tracks_over_half_the_clip": len(long_tracks),
            "people_per_frame": sum(tracks.values()) / stats["frames"],
            "ms_per_frame": 1000 * stats["seconds"]["total"] / stats["frames"],
            "ms_per_frame_and_person": 1000 * stats["seconds"]["total"] / people_frames,
            "detect_ms_per_frame_and_person": 1000 * stats["seconds"]["detect"] / people_frames,
            "cpu_ms_per_frame_and_person": 1000 * cpu / people_frames,
        }
        if clip.name in ("cam01.mp4", EXAMPLE_CLIP.name):
            labels = json.loads(LABELS.read_text())
            entry["labelled_people"] = {
                name: {"found_share": sum(i is not None for i in s.ids) / len(s.ids), "main_id": s.main_id,
                       "main_id_share": s.main_share, "id_switches": s.switches}
                for name, s in score_ids(record, labels, RADIUS_PX).items()
            }  # fmt: skip
        results[clip.name] = entry

    lines = [
        "# People tracked through the pose2sim_multiperson clips",
        "",
        "`OMP_NUM_THREADS=1 SVMAC_DATA=../shared/data nice -n 10 python benchmarks/video_tracking.py`",
        "(`svmac-demo CLIP --out-dir DIR --no-figure`, its defaults: MediaPipe's person detector searches every",
        f"{VideoOptions().redetect_every}th frame, the landmark model follows each person in between, app.tracking,",
        "smoothing on). Data: the four real 100-frame 60 fps 1088x1920",
        "views of `video/pose2sim_multiperson` (BSD-3-Clause). Machine: "
        f"{platform.machine()} CPU, {os.cpu_count()} cores, no GPU; load average {load_start:.1f} at the start "
        f"and {os.getloadavg()[0]:.1f} at the end (shared with other jobs: times are not the tool's best).",
        "",
        "Times: wall clock of the whole clip (decoding, detection, tracking, smoothing, lifting, writing), per",
        "frame, and per frame and person found (of which detection); CPU: the process's CPU time of the whole",
        "run, the models' start included, per frame and person.",
        "",
        "| clip | frames | tracks | tracks over half the clip | frames per track (id: frames) | people/frame "
        "| ms/frame | ms/frame/person (detection) | CPU ms/frame/person |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in results.items():
        per_track = ", ".join(f"{i}: {n}" for i, n in entry["frames_per_track"].items())
        lines.append(
            f"| {name} | {entry['frames']} | {entry['tracks']} | {entry['tracks_over_half_the_clip']} | {per_track} "
            f"| {entry['people_per_frame']:.2f} | {entry['ms_per_frame']:.0f} | {entry['ms_per_frame_and_person']:.0f} "
            f"({entry['detect_ms_per_frame_and_person']:.0f}) | {entry['cpu_ms_per_frame_and_person']:.0f} |"
        )
    for name, entry in results.items():
        if "labelled_people" not in entry:
            continue
        lines += [
            "",
            f"## {name}: every person in full view, against hand-labelled torso centres",
            "",
            f"Labels: `examples/pose2sim_cam01_people.json`; a detection belongs to the nearest label within "
            f"{RADIUS_PX} px. Target: one id through >= 90 % of the frames, at most one id switch.",
            "",
            "| person | frames found | main id | frames on the main id | id switches | meets target |",
            "|---|---|---|---|---|---|",
        ]
        for person, s in entry["labelled_people"].items():
            meets = s["main_id_share"] >= 0.9 and s["id_switches"] <= 1
            lines.append(
                f"| {person} | {100 * s['found_share']:.0f} % | {s['main_id']} | {100 * s['main_id_share']:.0f} % "
                f"| {s['id_switches']} | {'yes' if meets else 'no'} |"
            )
    write_report(args.out, "\n".join(lines) + "\n", {"clips": results, "load_average": load_start})


if __name__ == "__main__":
    main()
