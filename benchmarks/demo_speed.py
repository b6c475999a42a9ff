"""How fast svmac-demo is on this machine's CPU: seconds per image for loading, detection,
lifting and rendering separately, images per second for a batch folder with and without
figures, and milliseconds per frame for the fast OpenCV drawing (app.draw) of photos and of the
1088x1920 frames of a real video.

Photos: detection and lifting with the default detector and with --thorough's (quarter turns of every
photo) one photo after the other, wall clock and the process's CPU time (all threads: MediaPipe's models
run on up to 4 of them, whose waiting for each other counts too, so it can exceed the wall clock on an
idle machine; other jobs on a shared machine inflate the wall clock more). The photos: the one shipped with
matplotlib, plus the fixture and LSP photos under $SVMAC_DATA when it is set (copied to a temporary folder for the batch runs, removed afterwards). Video frames:
$SVMAC_DATA/video/pose2sim_multiperson/cam01.mp4 decoded with OpenCV, its people found and lifted
frame by frame, then drawn (the section is left out without the data).

Usage: OMP_NUM_THREADS=1 nice -n 10 python benchmarks/demo_speed.py [--data DIR] [--out reports/demo_speed]
"""

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import torch
from PIL import Image

from app.demo import main as demo_main
import app.draw
from app.draw import MAX_PEOPLE_3D, DrawnPerson, draw_frame, encode_picture, frame_layout
from app.pipeline import DEFAULT_WEIGHTS, ImageResult, Lifter, detect_image, lift_results
from app.render import PersonDrawing, render_pose_figure
from detector_adapters.image_io import load_image
from detector_adapters.mediapipe_adapter import MediaPipeDetector
from lifter.checkpoint import write_report

VIDEO_FRAMES = 100  # the whole of cam01.mp4
DETECTORS = ("default", "thorough")  # MediaPipeDetector() and MediaPipeDetector(thorough=True), svmac-demo --thorough
REPEATS = 3  # figures and frames are drawn this many times; the fastest counts (see best_of)
PACKAGED_PHOTO = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def photos(data: str | None) -> list[Path]:
    found = [PACKAGED_PHOTO]
    root = data or os.environ.get("SVMAC_DATA")
    if root and Path(root).is_dir():
        found += sorted((Path(root) / "fixtures").rglob("*.jpg")) + sorted(
            (Path(root) / "lsp" / "images").glob("*.jpg")
        )
    return found


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def best_of(repeats: int, function, *args) -> float:
    """Seconds of the fastest of `repeats` calls: on a machine shared with other jobs, the slower calls
    measure the other jobs rather than the function."""
    return min(timed(function, *args)[1] for _ in range(repeats))


def best_cpu_of(repeats: int, function, *args) -> float:
    """CPU seconds of this process (all its threads; nothing else runs in it meanwhile) in the cheapest of
    `repeats` calls: what the call costs an idle machine, however many other jobs share this one."""
    costs = []
    for _ in range(repeats):
        start = time.process_time()
        function(*args)
        costs.append(time.process_time() - start)
    return min(costs)


def ms(values: list[float], cpu: list[float] | None = None) -> dict[str, float]:
    """Median and p90 of wall seconds, and the median of the same calls' CPU seconds when given, in ms."""
    row = {"median_ms": 1000 * statistics.median(values), "p90_ms": 1000 * float(np.percentile(values, 90))}
    return row | ({"cpu_median_ms": 1000 * statistics.median(cpu)} if cpu is not None else {})


def cpu_timed(function, *args):
    """-> (value, wall seconds, this process's CPU seconds)"""
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    return value, time.perf_counter() - start, time.process_time() - cpu


def drawn(result: ImageResult) -> list[DrawnPerson]:
    return [DrawnPerson(rank, x.keypoints_2d, x.scores, x.pose_3d_mm) for rank, x in enumerate(result.people)]


def draw_and_encode(image: np.ndarray, people: list[DrawnPerson], suffix: str) -> bytes:
    """What a photo figure costs with app.draw: the drawing plus its PNG or JPEG encoding."""
    return encode_picture(draw_frame(image, people), suffix)


def video_frames(path: Path, count: int) -> tuple[list[np.ndarray], list[float]]:
    """The first `count` frames of a video as RGB, and the seconds each took to decode and convert."""
    capture = cv2.VideoCapture(str(path))
    frames, seconds = [], []
    try:
        while len(frames) < count:
            start = time.perf_counter()
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            seconds.append(time.perf_counter() - start)
    finally:
        capture.release()
    return frames, seconds


def encode_seconds(frames: list[np.ndarray], people: list[list[DrawnPerson]], panel_height: int | None) -> list:
    """Seconds per frame for app.video_io.VideoWriter (the annotated video's encoder) to take each drawn frame."""
    from app.video_io import VideoWriter

    pictures = [draw_frame(frame, who, panel_height=panel_height) for frame, who in zip(frames, people)]
    seconds = []
    with tempfile.TemporaryDirectory() as tmp, VideoWriter(Path(tmp) / "annotated.mp4", 60.0) as writer:
        for picture in pictures:
            seconds.append(timed(writer.write, picture)[1])
    return seconds


def video_drawing(path: Path, detector, lifter: Lifter, count: int) -> dict:
    """Frames of a real video, their people detected and lifted one frame at a time (ids are the
    detector's ranks: drawing cost does not depend on tracking), drawn at full size, at HD height
    and at half height, as an annotated video might be."""
    frames, decode_s = video_frames(path, count)
    people = []
    for index, frame in enumerate(frames):
        found, _ = detect_image(detector, path, frame)
        result = ImageResult(Path(f"{path.stem}_{index:04d}"), frame)
        lift_results(lifter, [result], [found])
        people.append(drawn(result))
    height, width = frames[0].shape[:2]
    sizes = {}
    for panel_height, reuse in ((None, False), (None, True), (1080, False), (height // 2, False)):
        layout = frame_layout(height, width, panel_height)
        out = np.empty((layout.height, layout.width, 3), np.uint8) if reuse else None
        draw_frame(frames[0], people[0], panel_height=panel_height)  # first call builds the cached panel
        args = [(frame, who, 0.5, panel_height, MAX_PEOPLE_3D, out) for frame, who in zip(frames, people)]
        seconds = [best_of(REPEATS, draw_frame, *a) for a in args]
        cpu_seconds = [best_cpu_of(REPEATS, draw_frame, *a) for a in args]
        name = f"{layout.width}x{layout.height}" + (", one output array reused (`out=`)" if reuse else "")
        sizes[name] = ms(seconds) | {"frames_per_s": 1.0 / statistics.median(seconds), "cpu": ms(cpu_seconds)}
        if not reuse:
            sizes[name]["encode"] = ms(encode_seconds(frames, people, panel_height))
    return {
        "video": path.name,
        "frame_size": f"{width}x{height}",
        "frames": len(frames),
        "people_per_frame": statistics.mean(len(p) for p in people),
        "decode": ms(decode_s),
        "draw_frame": sizes,
    }


class DrawCpuClock:
    """Wraps app.draw.draw_frame for one run to add up the CPU time of its calls on their own thread: under
    a load of several jobs per core, svmac-demo's wall-clock drawing stage mostly measures the other jobs."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> "DrawCpuClock":
        self.original = app.draw.draw_frame

        def timed_draw(*args, **kwargs):
            start = time.thread_time()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.thread_time() - start

        app.draw.draw_frame = timed_draw  # app.video imports it at call time, so it gets this one
        return self

    def __exit__(self, *exc) -> None:
        app.draw.draw_frame = self.original


def video_end_to_end(clip: Path) -> dict:
    """`svmac-demo CLIP --out-dir DIR` with and without the annotated video, timed by the command's own
    per-clip stage clock (summary.json), so start-up is left out; per frame and per person-frame."""
    runs = {}
    for name, extra in (("no_figure", ["--no-figure"]), ("annotated_video", [])):
        with tempfile.TemporaryDirectory() as out:
            argv = [str(clip), "--out-dir", out, "--quiet", "--device", "cpu"] + extra
            cpu_start = time.process_time()
            with contextlib.redirect_stderr(io.StringIO()), DrawCpuClock() as draw_cpu:
                demo_main(argv)
            cpu_seconds = time.process_time() - cpu_start
            stats = json.loads((Path(out) / "summary.json").read_text())["clips"][clip.name]
        frames, seconds = stats["frames"], stats["seconds"]
        person_frames = sum(stats["frames_per_track"].values())
        runs[name] = {
            "frames": frames,
            "tracks": len(stats["frames_per_track"]),
            "people_per_frame": person_frames / frames,
            "seconds": seconds,
            "ms_per_frame": 1000 * seconds["total"] / frames,
            "ms_per_frame_per_person": 1000 * seconds["total"] / max(person_frames, 1),
            "draw_ms_per_frame": 1000 * seconds.get("draw", 0.0) / frames,
            "draw_cpu_ms_per_frame": 1000 * draw_cpu.seconds / frames,
            "write_ms_per_frame": 1000 * seconds.get("write", 0.0) / frames,
            "cpu_ms_per_frame_all_threads": 1000 * cpu_seconds / frames,
            "cpu_ms_per_frame_per_person_all_threads": 1000 * cpu_seconds / max(person_frames, 1),
        }
    return runs


def end_to_end_lines(clip: Path, runs: dict) -> list[str]:
    plain, annotated = runs["no_figure"], runs["annotated_video"]
    stages = [k for k in plain["seconds"] if k != "total"]
    lines = [
        "",
        f"## Video end to end ({clip.name}, `svmac-demo {clip.name} --out-dir DIR`, smoothing on, CPU)",
        "",
        f"{plain['frames']} frames, {plain['tracks']} tracks, {plain['people_per_frame']:.2f} people per frame; times",
        "from the command's own clock for the clip (start-up excluded), per frame and per person in a frame:",
        "",
        "| run | ms per frame | frames/s | ms per frame per person | CPU ms per frame, all threads | "
        + " / ".join(stages)
        + " (s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, run in runs.items():
        split = " / ".join(f"{run['seconds'][k]:.2f}" for k in stages)
        lines.append(
            f"| {name.replace('_', ' ')} | {run['ms_per_frame']:.1f} | {1000 / run['ms_per_frame']:.1f} | "
            f"{run['ms_per_frame_per_person']:.1f} | {run['cpu_ms_per_frame_all_threads']:.0f} | {split} |"
        )
    per_person, cpu_per_person = plain["ms_per_frame_per_person"], plain["cpu_ms_per_frame_per_person_all_threads"]
    draw_fps = 1000 / annotated["draw_ms_per_frame"] if annotated["draw_ms_per_frame"] else float("inf")
    draw_cpu_fps = 1000 / annotated["draw_cpu_ms_per_frame"] if annotated["draw_cpu_ms_per_frame"] else float("inf")
    lines += [
        "",
        "CPU ms count every thread of the command (start-up included), MediaPipe's models' threads waiting for",
        "each other too: they exceed the wall clock even on an idle machine.",
        "",
        f"Target: <= 60 ms per frame per person with `--no-figure` (>= 15 frames/s for one person): "
        f"{per_person:.1f} ms of wall time here, {'meets' if per_person <= 60 else 'misses'} it; "
        f"{cpu_per_person:.1f} CPU ms per frame per person, all threads.",
        f"Target: the annotated video's drawing at >= 25 frames/s: {annotated['draw_ms_per_frame']:.1f} ms of wall "
        f"time per frame here ({draw_fps:.1f} frames/s, {'meets' if draw_fps >= 25 else 'misses'} it);",
        f"its CPU time is {annotated['draw_cpu_ms_per_frame']:.1f} ms per frame ({draw_cpu_fps:.1f} frames/s on an "
        f"idle core: {'meets' if draw_cpu_fps >= 25 else 'misses'} it). Encoding the video adds "
        f"{annotated['write_ms_per_frame']:.1f} ms of wall time per frame.",
    ]
    return lines


def video_lines(video: dict) -> list[str]:
    lines = [
        "",
        f"## Drawing video frames ({video['video']}, {video['frame_size']}, portrait)",
        "",
        f"{video['frames']} frames decoded with OpenCV ({video['decode']['median_ms']:.1f} ms per frame), "
        f"{video['people_per_frame']:.1f} people per frame on average (found and lifted frame by frame),",
        "each frame drawn with its people's 2D skeletons and ids beside the camera and turned 3D views",
        f"(per frame the fastest of {REPEATS} draws, then the median and 90th percentile over frames):",
        "",
        "| output size (frame + 3D panel) | median ms | p90 ms | frames/s (median) | CPU ms (median) "
        "| then encoding it, median ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size, timing in video["draw_frame"].items():
        encode = f"{timing['encode']['median_ms']:.1f}" if "encode" in timing else ""
        lines.append(
            f"| {size} | {timing['median_ms']:.1f} | {timing['p90_ms']:.1f} | {timing['frames_per_s']:.0f} | "
            f"{timing['cpu']['median_ms']:.1f} | {encode} |"
        )
    full = next(iter(video["draw_frame"].values()))
    verdict = "meets" if full["median_ms"] <= 40.0 else "misses"
    lines += [
        "",
        "CPU ms: the process's CPU time for the same draws (cheapest of the repeats), what a frame costs an idle",
        "machine; the drawing is single-threaded (OpenCV may resize on two). Encoding: the annotated video's",
        "writer (`app.video_io.VideoWriter`, OpenCV's mp4v) taking the drawn frames, one pass.",
        f"Target: >= 25 frames/s (<= 40 ms) at full size: the median {verdict} it.",
    ]
    return lines


def host_reference_ms(repeats: int = 3) -> float:
    """A fixed pure-Python workload (3 million additions), the fastest of repeats, in ms: how fast this
    host's cores are, to compare reports measured on different hosts (the same code has run more than
    twice as fast on one as on another)."""
    best = float("inf")
    for _ in range(repeats):
        start, total = time.perf_counter(), 0
        for i in range(3_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def load_note(load: dict) -> str:
    """Say how busy the machine was before the run: medians above are of a machine shared with other jobs when
    it was. The end's load includes this run's own threads (the models run on several)."""
    cores = os.cpu_count() or 1
    busy = load["start"] > 0.5 * cores
    return (
        f"Load average (1 min) {load['start']:.1f} at the start and {load['end']:.1f} at the end (this run's own "
        f"threads included) on {cores} cores: "
        + (
            "the machine was shared with other jobs while measured, so times are higher than on an idle one."
            if busy
            else "the machine was otherwise idle."
        )
    )


def batch_run(folder: Path, figures: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        argv = [str(folder), "--out-dir", out, "--quiet", "--device", "cpu"] + ([] if figures else ["--no-figure"])
        start = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            demo_main(argv)
        seconds = time.perf_counter() - start
        summary = json.loads((Path(out) / "summary.json").read_text())
    images = summary["processed"] + len(summary["failed"])
    return {"images": images, "seconds": seconds, "images_per_s": images / seconds, "stages_s": summary["seconds"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA, optional)")
    p.add_argument("--out", type=Path, default=Path("reports") / "demo_speed")
    args = p.parse_args()
    paths = photos(args.data)

    load_before = os.getloadavg()[0]
    reference_ms = host_reference_ms()
    startup = {}
    lifter, startup["lifter_load_s"] = timed(Lifter, DEFAULT_WEIGHTS, "cpu")
    detector, startup["detector_load_s"] = timed(MediaPipeDetector)
    thorough = MediaPipeDetector(thorough=True)

    load_s, render_s, results = [], [], []
    # Per detector (default, thorough): wall and CPU seconds per photo of detection, of lifting, and people found.
    photo_s = {name: {"detect": [], "detect_cpu": [], "lift": [], "lift_cpu": [], "people": []} for name in DETECTORS}
    draw_s, draw_png_s, draw_jpg_s, drawn_megapixels, figure_megapixels = [], [], [], [], []
    for path in paths:
        image, seconds = timed(load_image, path)
        load_s.append(seconds)
        for name, photo_detector in zip(DETECTORS, (detector, thorough)):  # one after the other: the same load
            (people, _), wall, cpu = cpu_timed(detect_image, photo_detector, path, image)
            result = ImageResult(path, image)
            _, lift_wall, lift_cpu = cpu_timed(lift_results, lifter, [result], [people])  # one image, as for a photo
            for key, value in zip(photo_s[name], (wall, cpu, lift_wall, lift_cpu, len(people))):
                photo_s[name][key].append(value)
            if name == "default":
                results.append((result, people))
    thorough.close()
    people_found = [r for r, _ in results if r.people]

    # The batch path lifts every person of many images in one call.
    fresh = [ImageResult(r.path, r.image) for r, _ in results]
    batch_lift_s = lift_results(lifter, fresh, [people for _, people in results])

    with tempfile.TemporaryDirectory() as tmp:
        for result in people_found[:10]:
            drawings = [PersonDrawing(x.keypoints_2d, x.scores, x.pose_3d) for x in result.people]
            render_s.append(best_of(REPEATS, render_pose_figure, result.image, drawings, Path(tmp) / "figure.png"))
            with Image.open(Path(tmp) / "figure.png") as figure:
                figure_megapixels.append(figure.width * figure.height / 1e6)
            draw_s.append(best_of(REPEATS, draw_frame, result.image, drawn(result)))
            layout = frame_layout(*result.image.shape[:2])
            drawn_megapixels.append(layout.width * layout.height / 1e6)
            draw_png_s.append(best_of(REPEATS, draw_and_encode, result.image, drawn(result), ".png"))
            draw_jpg_s.append(best_of(REPEATS, draw_and_encode, result.image, drawn(result), ".jpg"))

        folder = Path(tmp) / "photos"
        folder.mkdir()
        for i, path in enumerate(paths):
            shutil.copy(path, folder / f"{i:03d}_{path.name}")
        batch = {"without_figures": batch_run(folder, figures=False), "with_figures": batch_run(folder, figures=True)}

    root = args.data or os.environ.get("SVMAC_DATA")
    clip = Path(root or "") / "video" / "pose2sim_multiperson" / "cam01.mp4"
    video = video_drawing(clip, detector, lifter, VIDEO_FRAMES) if root and clip.is_file() else None
    end_to_end = video_end_to_end(clip) if video is not None and importlib.util.find_spec("app.video") else None
    load_after = os.getloadavg()[0]
    reference_end_ms = host_reference_ms()

    photo_rows = {}
    for name, t in photo_s.items():
        suffix = "" if name == "default" else f"_{name}"
        total = [d + lift for d, lift in zip(t["detect"], t["lift"])]
        total_cpu = [d + lift for d, lift in zip(t["detect_cpu"], t["lift_cpu"])]
        with_people = [i for i, n in enumerate(t["people"]) if n]
        photo_rows[f"detect{suffix}"] = ms(t["detect"], t["detect_cpu"])
        if name == "default":
            photo_rows["lift_one_image"] = ms(t["lift"], t["lift_cpu"])
        photo_rows[f"detect_plus_lift{suffix}"] = ms(total, total_cpu)
        photo_rows[f"detect_plus_lift_per_person{suffix}"] = ms(
            [total[i] / t["people"][i] for i in with_people], [total_cpu[i] / t["people"][i] for i in with_people]
        )
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, no GPU used",
        "host_reference_ms": {"start": reference_ms, "end": reference_end_ms},
        "photos": len(paths),
        "people_found": len(people_found),
        "people_found_per_detector": {name: sum(t["people"]) for name, t in photo_s.items()},
        "startup": startup,
        "per_image": {
            "load": ms(load_s),
            **photo_rows,
            "render_figure": ms(render_s),
            "draw_frame": ms(draw_s),
            "draw_frame_png": ms(draw_png_s),
            "draw_frame_jpg": ms(draw_jpg_s),
        },
        "drawn_megapixels_median": statistics.median(drawn_megapixels),
        "figure_megapixels_median": statistics.median(figure_megapixels),
        "video_drawing": video,
        "video_end_to_end": end_to_end,
        "load_average_1min": {"start": load_before, "end": load_after},
        "lift_batched_ms_per_image": 1000 * batch_lift_s / len(paths),
        "batch_folder": batch,
    }
    per = report["per_image"]
    lines = [
        "# svmac-demo speed",
        "",
        f"Machine: {report['machine']}. {len(paths)} photos (matplotlib's Grace Hopper"
        + (", the shared fixture photos and the 40 LSP photos" if len(paths) > 1 else "")
        + f"), people found in {len(people_found)}. Default detector (MediaPipe Pose 0.10.21), shipped weights.",
        "Produced by `OMP_NUM_THREADS=1 nice -n 10 python benchmarks/demo_speed.py` (with `SVMAC_DATA` set for the "
        "shared photos).",
        "",
        "Each photo is detected and lifted by the default detector and by `--thorough`'s (quarter turns of every "
        "photo) one after the other, so both meet the same load. CPU: the process's CPU time for the same calls "
        "(all threads: the models run on several, and their waiting for each other counts too); other jobs "
        "inflate it less than the wall clock.",
        "",
        "| stage, per image | median ms | p90 ms | CPU median ms |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "load": "read and decode the photo",
        "detect": "2D detection",
        "lift_one_image": "lifting (one image per call)",
        "detect_plus_lift": "**detection + lifting**",
        "detect_plus_lift_per_person": "**detection + lifting, per person found**",
        "detect_thorough": "2D detection, `--thorough`",
        "detect_plus_lift_thorough": "detection + lifting, `--thorough`",
        "detect_plus_lift_per_person_thorough": "detection + lifting per person found, `--thorough`",
        "render_figure": "render the figure (matplotlib, PNG, 100 dpi)",
        "draw_frame": "draw the figure with app.draw (OpenCV)",
        "draw_frame_png": "... and encode it as PNG",
        "draw_frame_jpg": "... and encode it as JPEG",
    }
    lines += [
        f"| {names[k]} | {v['median_ms']:.1f} | {v['p90_ms']:.1f} | "
        + (f"{v['cpu_median_ms']:.1f} |" if "cpu_median_ms" in v else " |")
        for k, v in per.items()
    ]
    found = report["people_found_per_detector"]
    lines += ["", f"People found: {found['default']} by the default, {found['thorough']} with `--thorough`."]
    lines += [
        "",
        f"Lifting all people of all photos in one batch: {report['lift_batched_ms_per_image']:.2f} ms per image.",
        f"Start-up: lifter {1000 * startup['lifter_load_s']:.0f} ms, detector "
        f"{1000 * startup['detector_load_s']:.0f} ms (once per run).",
        "",
        "Batch folder (`svmac-demo FOLDER --out-dir DIR`, whole command including start-up and writing JSON):",
        "",
        "| run | images | seconds | images/s | load / detect / lift / render s |",
        "|---|---:|---:|---:|---|",
    ]
    for name, run in batch.items():
        stages = " / ".join(f"{run['stages_s'][s]:.2f}" for s in ("load", "detect", "lift", "render"))
        label = name.replace("_", " ")
        lines.append(f"| {label} | {run['images']} | {run['seconds']:.1f} | {run['images_per_s']:.1f} | {stages} |")
    per_person = per["detect_plus_lift_per_person"]
    lines += [
        "",
        "Target: detection + lifting <= 100 ms per person on 2 cores: the default's median is "
        f"{per_person['median_ms']:.0f} ms of wall time per person here "
        f"({'meets' if per_person['median_ms'] <= 100 else 'misses'} it; {per_person['cpu_median_ms']:.0f} ms of "
        f"CPU time, all threads); per photo {per['detect_plus_lift']['median_ms']:.0f} ms wall, "
        f"{per['detect_plus_lift']['cpu_median_ms']:.0f} ms CPU.",
    ]
    render_share = batch["with_figures"]["stages_s"]["render"] / batch["with_figures"]["seconds"]
    lines += [
        "",
        f"With figures on, drawing takes {100 * render_share:.0f} % of a batch run "
        f"({per['render_figure']['median_ms']:.0f} ms per figure against {per['detect']['median_ms']:.0f} ms of",
        f"detection); `--no-figure` writes JSON only at {batch['without_figures']['images_per_s']:.0f} images/s, "
        "and `svmac-figure` can draw",
        "selected results afterwards.",
        "",
        f"Figures are timed as the fastest of {REPEATS} renderings each, on the first 10 photos with people.",
        "The fast drawing (`app.draw.draw_frame`, OpenCV) of the same photos takes "
        f"{per['draw_frame']['median_ms']:.1f} ms ({per['draw_frame_png']['median_ms']:.1f} ms with the PNG encoding)",
        f"against {per['render_figure']['median_ms']:.0f} ms for the matplotlib figure. The OpenCV picture keeps the "
        f"photo's resolution (median {report['drawn_megapixels_median']:.1f} megapixels with its 3D panel),",
        f"which is what makes its PNG slow; the matplotlib figure has {report['figure_megapixels_median']:.1f} "
        "megapixels at 100 dpi.",
    ]
    if video is not None:
        lines += video_lines(video)
    if end_to_end is not None:
        lines += end_to_end_lines(clip, end_to_end)
    lines += [
        "",
        load_note(report["load_average_1min"]),
        "",
        f"Host speed: a pure-Python loop of 3 million additions took {report['host_reference_ms']['start']:.0f} ms "
        f"(fastest of 3) at the start and {report['host_reference_ms']['end']:.0f} ms at the end: compare it before "
        "comparing times between reports, which may come from different hosts (or the same host at another time).",
    ]
    write_report(args.out, "\n".join(lines) + "\n", report)


if __name__ == "__main__":
    main()
