"""svmac-demo: photo(s) -> 2D joints -> 3D skeleton, as a figure, JSON and NPZ.

    svmac-demo photo.jpg --out pose.png [--json pose.json] [--npz pose.npz]
    svmac-demo photos/ --out-dir results/          (every image below photos/, recursively)

Exit status: 0 all images processed (finding no person counts as processed), 1 some image
failed (the others are still done, the summary says which and why), 2 the command itself
cannot run (bad option, weights, output folder).
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from app.output import result_record, write_json, write_npz
from app.pipeline import DEFAULT_WEIGHTS, ImageResult, Lifter, LiftedPerson, detect_image, lift_results
from detector_adapters.image_io import IMAGE_EXTENSIONS, is_image_path, load_image
from lifter.checkpoint import atomic_write_text, check_writable
from lifter.errors import SvmacError, exit_on_user_error
from lifter.inference import pick_device

SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class Job:
    image: Path
    name: str  # how the image is named in outputs and messages (relative to the batch folder)
    figure: Path | None
    json: Path | None


@dataclass
class Summary:
    processed: list[str] = field(default_factory=list)
    no_person: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already done by an earlier run
    failed: dict[str, str] = field(default_factory=dict)  # image -> reason
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("load", "detect", "lift", "render"), 0.0))

    def record(self) -> dict:
        return {
            "processed": len(self.processed),
            "no_person": self.no_person,
            "skipped_already_done": len(self.skipped),
            "failed": self.failed,
            "seconds": {stage: round(value, 3) for stage, value in self.seconds.items()},
        }

    def lines(self) -> list[str]:
        lines = [
            f"processed {len(self.processed)} image(s): {len(self.processed) - len(self.no_person)} with people, "
            f"{len(self.no_person)} with no person found; {len(self.skipped)} already done; {len(self.failed)} failed"
        ]
        lines += [f"  no person: {name}" for name in self.no_person]
        lines += [f"  failed: {name}: {reason}" for name, reason in self.failed.items()]
        return lines


def example_photo() -> Path:
    """Grace Hopper's portrait (US Navy, public domain), shipped inside matplotlib: always offline."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def build_detector(args: argparse.Namespace):
    """The chosen 2D front-end; heavy packages are imported only for the one asked for."""
    if args.detector == "mediapipe":
        from detector_adapters.mediapipe_adapter import MediaPipeDetector

        return MediaPipeDetector()
    if args.detector == "gt":
        if args.annotations is None:
            raise SvmacError("--detector gt needs --annotations FILE (COCO or MPII JSON, LSP .npz, H36M-17 .npz)")
        from detector_adapters.ground_truth import GroundTruthDetector

        return GroundTruthDetector(Path(args.annotations))
    if args.mmpose_checkpoint is None:
        raise SvmacError("--detector mmpose needs --mmpose-checkpoint FILE (no weights can be downloaded)")
    from detector_adapters.mmpose_adapter import MMPoseDetector

    return MMPoseDetector(
        model=args.mmpose_model,
        checkpoint=Path(args.mmpose_checkpoint),
        person_detector=args.person_detector_config,
        person_checkpoint=args.person_detector_checkpoint,
        device=str(pick_device(args.device)),
    )


def check_writable_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / ".svmac-write-test", "")
        (folder / ".svmac-write-test").unlink()
    except OSError as err:
        raise SvmacError(f"cannot write to output folder {folder}: {err.strerror or err}") from None


def single_image_jobs(args: argparse.Namespace, image: Path) -> list[Job]:
    if args.out_dir is not None:
        raise SvmacError("--out-dir is for a folder of images; for one image use --out FIGURE")
    figure = None if args.no_figure else Path(args.out or f"{image.stem}_svmac.png")
    if figure is not None and figure.suffix.lower() not in (".png", ".pdf", ".jpg", ".svg"):
        raise SvmacError(f"--out {figure}: use a .png, .pdf, .jpg or .svg file name")
    jobs = [Job(image, image.name, figure, Path(args.json) if args.json else None)]
    for path in (figure, jobs[0].json, Path(args.npz) if args.npz else None):
        if path is not None:
            check_writable(path, args.overwrite)
            check_writable_folder(path.parent)
    return jobs


def batch_jobs(args: argparse.Namespace, folder: Path) -> list[Job]:
    if args.out is not None or args.json is not None:
        raise SvmacError("a folder is processed with --out-dir DIR (one figure and one JSON per image)")
    if args.out_dir is None:
        raise SvmacError(f"{folder} is a folder: give --out-dir DIR for the results")
    out_dir = Path(args.out_dir).resolve()
    images = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and is_image_path(path) and out_dir not in path.resolve().parents
    )
    if not images:
        raise SvmacError(f"no images found below {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}, any case)")
    check_writable_folder(Path(args.out_dir))
    if args.npz:
        check_writable(Path(args.npz), args.overwrite)
    jobs = []
    for image in images:
        relative = image.relative_to(folder)
        # The full file name is kept (photo.jpg -> photo.jpg.json) so photo.jpg and photo.png never collide.
        base = Path(args.out_dir) / relative.parent / relative.name
        figure = None if args.no_figure else base.with_name(base.name + ".png")
        jobs.append(Job(image, str(relative), figure, base.with_name(base.name + ".json")))
    return jobs


def already_done(job: Job) -> bool:
    return job.json is not None and job.json.exists() and (job.figure is None or job.figure.exists())


def render(result: ImageResult, figure: Path, args: argparse.Namespace, title: str) -> None:
    from app.render import PersonDrawing, render_pose_figure  # matplotlib only when figures are made

    people = [PersonDrawing(p.keypoints_2d, p.scores, p.pose_3d_mm) for p in result.people]
    render_pose_figure(result.image, people, figure, min_score=args.min_score, title=title, dpi=args.dpi, unit="mm")


def process(
    jobs: list[Job], detector, lifter: Lifter, args: argparse.Namespace, summary: Summary
) -> list[tuple[str, list[LiftedPerson]]]:
    """Run every job, lifting the people of args.batch_size images at a time; never stops on a bad image.

    Returns the people of every processed image (not the photos: a large folder must not pile
    up decoded images in memory)."""
    finished: list[tuple[str, list[LiftedPerson]]] = []
    todo = [job for job in jobs if args.overwrite or not already_done(job)]
    summary.skipped = [job.name for job in jobs if job not in todo]
    show_progress = len(todo) > 1 and not args.quiet
    with tqdm(total=len(todo), unit="image", disable=not show_progress, file=sys.stderr) as progress:
        for start in range(0, len(todo), args.batch_size):
            chunk, results, detections = [], [], []
            for job in todo[start : start + args.batch_size]:
                try:
                    tic = time.perf_counter()
                    image = load_image(job.image)
                    summary.seconds["load"] += time.perf_counter() - tic
                    people, seconds = detect_image(detector, job.image, image)
                    summary.seconds["detect"] += seconds
                except SvmacError as err:
                    summary.failed[job.name] = str(err).removeprefix(f"{job.image}: ")
                    progress.update()
                    continue
                except Exception as err:  # a detector crash on one image must not end the batch
                    summary.failed[job.name] = f"detector failed: {type(err).__name__}: {err}".splitlines()[0]
                    progress.update()
                    continue
                chunk.append(job)
                results.append(ImageResult(job.image, image))
                detections.append(people)
            summary.seconds["lift"] += lift_results(lifter, results, detections)
            for job, result in zip(chunk, results):
                try:
                    write_outputs(job, result, detector, lifter, args, summary)
                except (OSError, ValueError) as err:
                    summary.failed[job.name] = f"cannot write output: {err}"
                else:
                    summary.processed.append(job.name)
                    if not result.people:
                        summary.no_person.append(job.name)
                    finished.append((job.name, result.people))
                progress.update()
    return finished


def write_outputs(job: Job, result: ImageResult, detector, lifter: Lifter, args, summary: Summary) -> None:
    if job.figure is not None:
        tic = time.perf_counter()
        render(result, job.figure, args, title=job.name)
        summary.seconds["render"] += time.perf_counter() - tic
    # The JSON goes last: its presence is what marks an image as done for a re-run.
    if job.json is not None:
        write_json(job.json, result_record(result, detector, lifter, job.name))


def add_detector_arguments(parser: argparse.ArgumentParser) -> None:
    det = parser.add_argument_group("2D detector")
    det.add_argument("--detector", choices=("mediapipe", "mmpose", "gt"), default="mediapipe")
    det.add_argument("--min-score", type=float, default=0.5, help="joints below this score are drawn as uncertain")
    det.add_argument("--annotations", help="--detector gt: COCO/MPII JSON, LSP .npz or H36M-17 .npz annotations")
    det.add_argument("--mmpose-model", default="hrnet-w32-coco", help="--detector mmpose: preset name or config")
    det.add_argument("--mmpose-checkpoint", help="--detector mmpose: checkpoint file (.pth)")
    det.add_argument(
        "--person-detector-config", help="--detector mmpose: mmdet config (or rtmdet-nano-person) for person boxes"
    )
    det.add_argument("--person-detector-checkpoint", help="--detector mmpose: mmdet checkpoint")


def add_lifter_arguments(parser: argparse.ArgumentParser) -> None:
    lif = parser.add_argument_group("3D lifter")
    lif.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="lifter weights (.safetensors)")
    lif.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: CUDA when present")
    lif.add_argument("--batch-size", type=int, default=32, help="images whose people are lifted together")
    lif.add_argument("--flip-average", action="store_true",
                     help="also lift each pose's mirror image and average (2.5 mm better on Human3.6M)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="svmac-demo",
        description="Estimate 3D human poses in photos (SVMAC lifter on a 2D detector).",
        epilog="Output format: docs/output_format.md. Exit status: 0 ok, 1 some image failed, 2 cannot run.",
    )
    p.add_argument("input", nargs="?", help="an image file, or a folder processed recursively")
    p.add_argument("--example", action="store_true", help="use a photo shipped inside matplotlib (Grace Hopper)")
    out = p.add_argument_group("outputs (existing files are kept unless --overwrite)")
    out.add_argument("--out", help="figure for one image (.png/.pdf/.jpg/.svg; default IMAGE-STEM_svmac.png)")
    out.add_argument("--out-dir", help="for a folder: one figure and one JSON per image, mirroring the folder")
    out.add_argument("--json", help="JSON result for one image (docs/output_format.md)")
    out.add_argument("--npz", help="NPZ with every person's arrays (for a folder: all images in one file)")
    out.add_argument("--no-figure", action="store_true", help="skip figures (much faster for large batches)")
    out.add_argument("--overwrite", action="store_true", help="replace existing outputs, redo finished images")
    out.add_argument("--dpi", type=int, default=100, help="figure resolution (default 100)")
    add_detector_arguments(p)
    add_lifter_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary on stdout")
    return p


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.batch_size < 1 or args.dpi < 10 or not 0 <= args.min_score <= 1:
        raise SvmacError("--batch-size must be >= 1, --dpi >= 10 and --min-score within [0, 1]")
    if (args.input is None) == (not args.example):
        raise SvmacError("give an image or folder, or --example (not both)")
    source = example_photo() if args.example else Path(args.input)
    if source.is_dir():
        jobs = batch_jobs(args, source)
    elif source.exists():
        jobs = single_image_jobs(args, source)
    else:
        raise SvmacError(f"{source}: no such file or folder")
    lifter = Lifter(Path(args.weights), args.device, args.flip_average)
    detector = build_detector(args)

    summary = Summary()
    results = process(jobs, detector, lifter, args, summary)
    if args.npz:
        write_npz(Path(args.npz), results)
    if source.is_dir():
        summary_text = json.dumps(summary.record(), indent=1) + "\n"
        atomic_write_text(Path(args.out_dir) / SUMMARY_NAME, summary_text)
    if not args.quiet:
        if source.is_dir():
            print("\n".join(summary.lines()))
        elif summary.processed:
            people = results[0][1]
            found = f"{len(people)} person(s)" if people else "no person found"
            written = ", ".join(str(p) for p in (jobs[0].figure, jobs[0].json, args.npz) if p)
            print(f"{jobs[0].name}: {found}" + (f"; wrote {written}" if written else ""))
    for name, reason in summary.failed.items():
        print(f"error: {name}: {reason}", file=sys.stderr)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
