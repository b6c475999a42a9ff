"""How fast svmac-demo is on this machine's CPU: seconds per image for loading, detection,
lifting and rendering separately, and images per second for a batch folder with and without
figures.

Photos: the one shipped with matplotlib, plus the fixture and LSP photos under $SVMAC_DATA when
it is set (copied to a temporary folder for the batch runs, removed afterwards).

Usage: python benchmarks/demo_speed.py [--data DIR] [--out reports/demo_speed]
"""

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np
import torch

from app.demo import main as demo_main
from app.pipeline import ImageResult, Lifter, detect_image, lift_results
from app.render import PersonDrawing, render_pose_figure
from detector_adapters.image_io import load_image
from detector_adapters.mediapipe_adapter import MediaPipeDetector
from lifter.checkpoint import write_report

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


def ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": 1000 * statistics.median(values), "p90_ms": 1000 * float(np.percentile(values, 90))}


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

    startup = {}
    lifter, startup["lifter_load_s"] = timed(Lifter, Path("weights/svmac_h36m_gt.safetensors"), "cpu")
    detector, startup["detector_load_s"] = timed(MediaPipeDetector)

    load_s, detect_s, lift_s, render_s, results = [], [], [], [], []
    for path in paths:
        image, seconds = timed(load_image, path)
        load_s.append(seconds)
        people, seconds = detect_image(detector, path, image)
        detect_s.append(seconds)
        result = ImageResult(path, image)
        lift_s.append(lift_results(lifter, [result], [people]))  # one image at a time, as for a single photo
        results.append((result, people))
    people_found = [r for r, _ in results if r.people]

    # The batch path lifts every person of many images in one call.
    fresh = [ImageResult(r.path, r.image) for r, _ in results]
    batch_lift_s = lift_results(lifter, fresh, [people for _, people in results])

    with tempfile.TemporaryDirectory() as tmp:
        for result in people_found[:10]:
            drawings = [PersonDrawing(x.keypoints_2d, x.scores, x.pose_3d) for x in result.people]
            _, seconds = timed(render_pose_figure, result.image, drawings, Path(tmp) / "figure.png")
            render_s.append(seconds)

        folder = Path(tmp) / "photos"
        folder.mkdir()
        for i, path in enumerate(paths):
            shutil.copy(path, folder / f"{i:03d}_{path.name}")
        batch = {"without_figures": batch_run(folder, figures=False), "with_figures": batch_run(folder, figures=True)}

    detect_plus_lift = [d + lift for d, lift in zip(detect_s, lift_s)]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, no GPU used",
        "photos": len(paths),
        "people_found": len(people_found),
        "startup": startup,
        "per_image": {
            "load": ms(load_s),
            "detect": ms(detect_s),
            "lift_one_image": ms(lift_s),
            "detect_plus_lift": ms(detect_plus_lift),
            "render_figure": ms(render_s),
        },
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
        "Produced by `python benchmarks/demo_speed.py` (with `SVMAC_DATA` set for the shared photos).",
        "",
        "| stage, per image | median ms | p90 ms |",
        "|---|---:|---:|",
    ]
    names = {
        "load": "read and decode the photo",
        "detect": "2D detection",
        "lift_one_image": "lifting (one image per call)",
        "detect_plus_lift": "**detection + lifting**",
        "render_figure": "render the figure (PNG, 100 dpi)",
    }
    lines += [f"| {names[k]} | {v['median_ms']:.1f} | {v['p90_ms']:.1f} |" for k, v in per.items()]
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
    verdict = "meets" if per["detect_plus_lift"]["median_ms"] <= 100 else "misses"
    lines += ["", f"Target: detection + lifting <= 100 ms per image on 2 cores: median {verdict} it."]
    render_share = batch["with_figures"]["stages_s"]["render"] / batch["with_figures"]["seconds"]
    lines += [
        "",
        f"With figures on, drawing takes {100 * render_share:.0f} % of a batch run "
        f"({per['render_figure']['median_ms']:.0f} ms per figure against {per['detect']['median_ms']:.0f} ms of",
        f"detection); `--no-figure` writes JSON only at {batch['without_figures']['images_per_s']:.0f} images/s, "
        "and `svmac-figure` can draw",
        "selected results afterwards.",
    ]
    write_report(args.out, "\n".join(lines) + "\n", report)


if __name__ == "__main__":
    main()
