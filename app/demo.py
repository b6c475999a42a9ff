"""svmac-demo: photos and videos -> every person's 2D joints -> 3D skeletons, as figures, JSON and NPZ.

    svmac-demo photo.jpg --out pose.png [--json pose.json] [--npz pose.npz]
    svmac-demo clip.mp4 --out-dir results/        (clip.json, clip.npz, clip_svmac.mp4)
    svmac-demo --frames frames/ --fps 30 --out-dir results/   (a folder of numbered images as a clip)
    svmac-demo folder/ --out-dir results/         (every photo and video below folder/, recursively)
    ... --bvh --world --csv --html                (motion outputs: docs/motion_outputs.md)

Exit status: 0 all inputs processed (finding no person counts as processed), 1 some input
failed (the others are still done, the summary says which and why), 2 the command itself
cannot run (bad option, weights, output folder).
"""

import argparse
import glob
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from app.clip import Clip, photo_clip
from app.motion import MotionOptions, clip_motion, worlds_of
from app.output import clip_from_record, result_record, write_json, write_npz
from app.pipeline import DEFAULT_WEIGHTS, REPOSITORY_ROOT, ImageResult, Lifter, LiftedPerson, detect_image, lift_results
from app.video import ClipOutputs, ClipResult, VideoOptions, lift_clip, write_clip_outputs
from app.video_io import VIDEO_EXTENSIONS, is_video_path, open_clip
from app.world import DEFAULT_FOV_DEG, MAX_HEIGHT_M, MIN_HEIGHT_M, WorldFrame, clip_to_world
from detector_adapters.image_io import IMAGE_EXTENSIONS, is_image_path, load_image
from lifter.checkpoint import atomic_write_text, check_writable
from lifter.errors import SvmacError, exit_on_user_error
from lifter.inference import pick_device

SUMMARY_NAME = "summary.json"
TABLE_NAME = "results.csv"  # a folder's photos, one row per image and person (--csv)
GALLERY_NAME = "index.html"  # a folder's pages (--html)
FIGURE_SUFFIXES = (".png", ".pdf", ".jpg", ".svg")
# The bundled example: a real clip of several people walking (examples/README.md says where from).
EXAMPLE_CLIP = REPOSITORY_ROOT / "examples" / "pose2sim_cam01.mp4"


@dataclass(frozen=True)
class Job:
    image: Path
    name: str  # how the image is named in outputs and messages (relative to the batch folder)
    figure: Path | None
    json: Path | None
    html: Path | None = None  # the interactive page
    bvh_stem: Path | None = None  # one BVH per person: <bvh_stem>.person<ID>.bvh
    # A folder's figures are drawn with OpenCV (a few ms); one photo's --out with matplotlib (PDF/SVG too).
    fast_figure: bool = False

    def bvh_path(self, person_id: int) -> Path:
        return self.bvh_stem.with_name(f"{self.bvh_stem.name}.person{person_id}.bvh")

    def paths(self) -> list[Path]:
        """The outputs whose names are known before the photo is read."""
        return [path for path in (self.figure, self.json, self.html) if path is not None]


@dataclass(frozen=True)
class ClipJob:
    source: Path  # a video file, or a folder of numbered frames
    name: str  # how the clip is named in outputs and messages
    outputs: ClipOutputs


@dataclass(frozen=True)
class BatchOutputs:
    """Outputs over all photos of a run: the table (--csv) and, for a folder, the gallery (--html)."""

    csv: Path | None = None
    gallery: Path | None = None


@dataclass
class Collected:
    """What the run-wide outputs need of each input finished in this run, by input name: a photo's
    clip and world frames for the table, every page for the gallery (not the pictures: a large
    folder must not pile up images in memory)."""

    tables: dict[str, tuple[Clip, dict | None]] = field(default_factory=dict)
    pages: dict[str, object] = field(default_factory=dict)  # app.html_view.HtmlPage
    bvh: dict[str, list[Path]] = field(default_factory=dict)  # the BVH files written


@dataclass
class Summary:
    processed: list[str] = field(default_factory=list)  # photos
    no_person: list[str] = field(default_factory=list)  # photos and clips
    skipped: list[str] = field(default_factory=list)  # already done by an earlier run
    failed: dict[str, str] = field(default_factory=dict)  # input -> reason
    clips: dict[str, dict] = field(default_factory=dict)  # clip -> frames, tracks, seconds
    notes: dict[str, list[str]] = field(default_factory=dict)  # clip -> things to know (truncated, VFR, ...)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("load", "detect", "lift", "render"), 0.0))

    def record(self) -> dict:
        return {
            "processed": len(self.processed),
            "no_person": self.no_person,
            "skipped_already_done": len(self.skipped),
            "failed": self.failed,
            "clips": self.clips,
            "notes": self.notes,
            "seconds": {stage: round(value, 3) for stage, value in self.seconds.items()},
        }

    def lines(self) -> list[str]:
        photos_no_person = [name for name in self.no_person if name not in self.clips]
        lines = [
            f"processed {len(self.processed)} image(s): {len(self.processed) - len(photos_no_person)} with people, "
            f"{len(photos_no_person)} with no person found; {len(self.skipped)} already done; {len(self.failed)} failed"
        ]
        if self.clips:
            lines[0] += f"; {len(self.clips)} clip(s)"
        lines += [f"  {name}: {clip_line(stats)}" for name, stats in self.clips.items()]
        lines += [f"  note: {name}: {note}" for name, notes in self.notes.items() for note in notes]
        lines += [f"  no person: {name}" for name in self.no_person]
        lines += [f"  failed: {name}: {reason}" for name, reason in self.failed.items()]
        return lines


def clip_line(stats: dict) -> str:
    ids = ", ".join(f"{track_id}: {count}" for track_id, count in stats["frames_per_track"].items())
    seconds = stats["seconds"]
    speed = f"{1000 * seconds['total'] / max(stats['frames'], 1):.0f} ms/frame"
    tracks = len(stats["frames_per_track"])
    frames = f"{stats['frames']} frames at {stats['fps']:g} fps"
    return f"{frames}, {tracks} track(s) (frames per id {ids or 'none'}); {speed}"


def build_detector(args: argparse.Namespace):
    """The chosen 2D front-end; heavy packages are imported only for the one asked for."""
    if args.detector == "mediapipe":
        from detector_adapters.mediapipe_adapter import MediaPipeDetector

        return MediaPipeDetector(max_people=args.max_people, thorough=args.thorough)
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


def single_image_jobs(args: argparse.Namespace, image: Path) -> tuple[list[Job], BatchOutputs]:
    """One photo: --out, --json, --npz and --csv FILE name its outputs; the page and the BVH files go
    beside the JSON (the current folder without one), named after the photo: photo.jpg.html,
    photo.jpg.person0.bvh, ..."""
    if args.out_dir is not None:
        raise SvmacError("--out-dir is for a folder or a video; for one image use --out FIGURE")
    figure = None if args.no_figure else Path(args.out or f"{image.stem}_svmac.png")
    check_figure_name(figure)
    result = Path(args.json) if args.json else None
    base = (result.parent if result is not None else Path(".")) / image.name
    job = Job(image, image.name, figure, result, html=suffixed(base, ".html") if args.html else None,
              bvh_stem=base if args.bvh else None)  # fmt: skip
    table = None if args.csv is None else Path(args.csv or suffixed(base, ".csv"))
    for path in (*job.paths(), Path(args.npz) if args.npz else None, table):
        if path is not None:
            check_writable(path, args.overwrite)
            check_writable_folder(path.parent)
    if job.bvh_stem is not None:
        check_no_bvh(job.bvh_stem, ".person*.bvh", args.overwrite)
    return [job], BatchOutputs(csv=table)


def suffixed(base: Path, suffix: str) -> Path:
    """base with suffix added to its full name (photo.jpg -> photo.jpg.html)."""
    return base.with_name(base.name + suffix)


def check_no_bvh(stem: Path, pattern: str, overwrite: bool) -> None:
    """BVH names depend on the people found: refuse when any file of the stem's pattern exists."""
    existing = sorted(stem.parent.glob(glob.escape(stem.name) + pattern))
    if existing and not overwrite:
        raise SvmacError(f"{existing[0]} exists; pass --overwrite to replace it")


def check_figure_name(figure: Path | None) -> None:
    if figure is not None and figure.suffix.lower() not in FIGURE_SUFFIXES:
        raise SvmacError(f"--out {figure}: use a {', '.join(FIGURE_SUFFIXES[:-1])} or {FIGURE_SUFFIXES[-1]} file name")


def clip_outputs(base: Path, args: argparse.Namespace) -> ClipOutputs:
    """DIR/<clip>.json, .npz, .csv, unless --no-figure <clip>_svmac.mp4, with --html <clip>.html and
    with --bvh <clip>_track<ID>.bvh."""
    return ClipOutputs(
        json=suffixed(base, ".json"),
        npz=suffixed(base, ".npz"),
        csv=suffixed(base, ".csv"),
        video=None if args.no_figure else suffixed(base, "_svmac.mp4"),
        html=suffixed(base, ".html") if args.html else None,
        bvh_stem=base if args.bvh else None,
    )


def single_clip_job(args: argparse.Namespace, source: Path) -> ClipJob:
    """One video or frame folder: --out-dir DIR gets every output; --out, --json, --npz and --csv FILE
    name single ones (--out: a still of the busiest frame); with none of them, every output goes to the
    current folder. The page and the BVH files go into --out-dir, else beside the JSON."""
    out_dir = args.out_dir
    if args.out is None and args.json is None and args.npz is None and out_dir is None:
        out_dir = "."
    outputs = clip_outputs(Path(out_dir) / source.stem, args) if out_dir is not None else ClipOutputs()
    still = None if args.out is None or args.no_figure else Path(args.out)
    check_figure_name(still)
    folder = Path(out_dir) if out_dir is not None else Path(args.json or args.npz or args.out).parent
    motion = clip_outputs(folder / source.stem, args)
    table = outputs.csv
    if args.csv:
        table = Path(args.csv)
    elif table is None and args.csv == "":
        table = motion.csv
    outputs = ClipOutputs(
        json=Path(args.json) if args.json else outputs.json,
        npz=Path(args.npz) if args.npz else outputs.npz,
        csv=table,
        video=outputs.video,
        still=still,
        html=motion.html,
        bvh_stem=motion.bvh_stem,
    )
    if not outputs.paths() and outputs.bvh_stem is None:
        raise SvmacError("nothing to write: --no-figure leaves no --out figure; add --out-dir, --json or --npz")
    for path in outputs.paths():
        check_writable(path, args.overwrite)
        check_writable_folder(path.parent)
    if outputs.bvh_stem is not None:
        check_writable_folder(outputs.bvh_stem.parent)
        check_no_bvh(outputs.bvh_stem, "_track*.bvh", args.overwrite)
    return ClipJob(source, source.name, outputs)


def batch_jobs(args: argparse.Namespace, folder: Path) -> tuple[list[Job], list[ClipJob], BatchOutputs]:
    """Every photo and every video below folder: photos as today, each video as a clip; the photos'
    table and the gallery in --out-dir. Those two describe the whole folder, so, like summary.json,
    every run writes them anew (with the inputs an earlier run finished)."""
    if args.out is not None or args.json is not None:
        raise SvmacError("a folder is processed with --out-dir DIR (outputs for each photo and video)")
    if args.csv:
        raise SvmacError(f"a folder's table is written to --out-dir as {TABLE_NAME}: give --csv without a file name")
    if args.out_dir is None:
        raise SvmacError(f"{folder} is a folder: give --out-dir DIR for the results")
    out_dir = Path(args.out_dir).resolve()
    files = sorted(path for path in folder.rglob("*") if path.is_file() and out_dir not in path.resolve().parents)
    images = [path for path in files if is_image_path(path)]
    videos = [path for path in files if is_video_path(path)]
    if not images and not videos:
        extensions = ", ".join(IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
        raise SvmacError(f"no images or videos found below {folder} (looked for {extensions}, any case)")
    check_writable_folder(Path(args.out_dir))
    if args.npz:
        check_writable(Path(args.npz), args.overwrite)
    jobs = []
    for image in images:
        relative = image.relative_to(folder)
        # The full file name is kept (photo.jpg -> photo.jpg.json) so photo.jpg and photo.png never collide.
        base = Path(args.out_dir) / relative.parent / relative.name
        figure = None if args.no_figure else suffixed(base, ".png")
        html = suffixed(base, ".html") if args.html else None
        bvh_stem = base if args.bvh else None
        jobs.append(Job(image, str(relative), figure, suffixed(base, ".json"), html, bvh_stem, fast_figure=True))
    stems = [video.with_suffix("") for video in videos]
    clip_jobs = []
    for video, stem in zip(videos, stems):
        relative = video.relative_to(folder)
        # walk.mp4 -> walk.json, walk_svmac.mp4; walk.mp4 beside walk.avi -> walk.mp4.json, ...
        name = relative.name if stems.count(stem) > 1 else relative.stem
        clip_jobs.append(ClipJob(video, str(relative), clip_outputs(Path(args.out_dir) / relative.parent / name, args)))
    out_dir = Path(args.out_dir)
    batch = BatchOutputs(csv=out_dir / TABLE_NAME if args.csv is not None and images else None,
                         gallery=out_dir / GALLERY_NAME if args.html else None)  # fmt: skip
    return jobs, clip_jobs, batch


def already_done(job: Job, args: argparse.Namespace) -> bool:
    if job.json is None or not all(path.exists() for path in job.paths()):
        return False
    return has_motion(job.json, args)


def has_motion(result: Path, args: argparse.Namespace) -> bool:
    """Whether a finished input's JSON has what --bvh and --world ask for (an earlier run may not
    have asked): every person (photo) or track (clip) with its BVH file and world placement."""
    if not (args.bvh or args.world):
        return True
    try:
        record = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    entries = record.get("people") if record.get("kind") == "photo" else record.get("tracks")
    for entry in entries or []:
        if args.bvh and not ("bvh" in entry and (result.parent / entry["bvh"]["file"]).exists()):
            return False
        if args.world and "world" not in entry:
            return False
    return entries is not None


def figure_height(photo_height: int) -> int:
    """A folder figure's height: the photo's own, within [480, 1080] px (PNG encoding of a large photo's
    full-size drawing would cost more than the rest of its processing; reports/demo_speed.md)."""
    return min(max(photo_height, 480), 1080)


def render(result: ImageResult, job: Job, args: argparse.Namespace) -> None:
    if job.fast_figure:
        from app.draw import DrawnPerson, draw_frame, write_picture

        people = [DrawnPerson(i, p.keypoints_2d, p.scores, p.pose_3d_mm) for i, p in enumerate(result.people)]
        picture = draw_frame(result.image, people, args.min_score, figure_height(result.image.shape[0]))
        write_picture(job.figure, picture)
        return
    from app.render import PersonDrawing, render_pose_figure  # matplotlib only when figures are made

    people = [PersonDrawing(p.keypoints_2d, p.scores, p.pose_3d_mm) for p in result.people]
    render_pose_figure(
        result.image, people, job.figure, min_score=args.min_score, title=job.name, dpi=args.dpi, unit="mm"
    )


def process(
    jobs: list[Job], detector, lifter: Lifter, args: argparse.Namespace, summary: Summary, collected: Collected
) -> list[tuple[str, list[LiftedPerson]]]:
    """Run every job, lifting the people of args.batch_size images at a time; never stops on a bad image.

    Returns the people of every processed image (not the photos: a large folder must not pile
    up decoded images in memory)."""
    finished: list[tuple[str, list[LiftedPerson]]] = []
    todo = [job for job in jobs if args.overwrite or not already_done(job, args)]
    summary.skipped += [job.name for job in jobs if job not in todo]
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
                    people = people[: args.max_people]
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
                    write_outputs(job, result, detector, lifter, args, summary, collected)
                except (OSError, ValueError, SvmacError) as err:
                    summary.failed[job.name] = f"cannot write output: {err}"
                else:
                    summary.processed.append(job.name)
                    if not result.people:
                        summary.no_person.append(job.name)
                    finished.append((job.name, result.people))
                progress.update()
    return finished


def motion_options(args: argparse.Namespace) -> MotionOptions:
    return MotionOptions(world=world_frame(args), min_score=args.min_score)


def world_frame(args: argparse.Namespace) -> WorldFrame | None:
    if not args.world:
        return None
    return WorldFrame(height_m=args.height, focal_px=args.focal, fov_deg=args.fov, min_score=args.min_score)


def write_outputs(
    job: Job, result: ImageResult, detector, lifter: Lifter, args, summary: Summary, collected: Collected
) -> None:
    """The photo's outputs: BVH files, figure, page, then the JSON; its table rows and page are kept
    for the run-wide table and gallery."""
    height, width = result.image.shape[:2]
    clip = photo_clip(job.name, width, height, result.people)
    # An unfinished input's BVH files are replaced: a single photo's were checked before it was read.
    motions = clip_motion(clip, motion_options(args), job.bvh_path if job.bvh_stem is not None else None)
    if args.bvh:
        collected.bvh[job.name] = [motion.bvh.path for motion in motions.values()]
    if job.figure is not None:
        tic = time.perf_counter()
        render(result, job, args)
        summary.seconds["render"] += time.perf_counter() - tic
    if job.html is not None:
        from app.html_view import write_clip_html

        page = write_clip_html(job.html, clip, [result.image], overwrite=True, min_score=args.min_score)
        collected.pages[job.name] = page
    # The JSON goes last: its presence is what marks an image as done for a re-run.
    if job.json is not None:
        write_json(job.json, result_record(result, detector, lifter, job.name, motions))
    if args.csv is not None:
        collected.tables[job.name] = (clip, worlds_of(motions))


def clip_done(job: ClipJob, args: argparse.Namespace) -> bool:
    outputs = job.outputs
    if outputs.json is None or not all(path.exists() for path in outputs.paths()):
        return False
    return has_motion(outputs.json, args)


def video_options(args: argparse.Namespace) -> VideoOptions:
    return VideoOptions(max_people=args.max_people, smooth=args.smooth, causal=args.causal, fps=args.fps,
                        min_score=args.min_score, max_frames=args.max_frames,
                        min_track_s=args.min_track_seconds)  # fmt: skip


def processing_record(options: VideoOptions) -> dict:
    """How a clip was made, for its JSON."""
    from app.smoothing import DEFAULT_CAUSAL_CUTOFF_HZ, DEFAULT_CUTOFF_HZ

    cutoff = DEFAULT_CAUSAL_CUTOFF_HZ if options.causal else DEFAULT_CUTOFF_HZ
    return {
        "max_people": options.max_people,
        "smoothing": {"enabled": options.smooth, "causal": options.causal,
                      "cutoff_hz": cutoff if options.smooth else None, "min_score": options.min_score},
    }  # fmt: skip


def clip_stats(result: ClipResult, seconds: float) -> dict:
    timing = {stage: round(value, 3) for stage, value in vars(result.timing).items()}
    return {
        "frames": result.clip.num_frames,
        "fps": round(result.info.fps, 3),
        "frames_per_track": {track.track_id: len(track.frames) for track in result.clip.tracks},
        "seconds": {**timing, "total": round(seconds, 3)},
    }


def process_clips(
    jobs: list[ClipJob], detector, lifter: Lifter, args: argparse.Namespace, summary: Summary, collected: Collected
) -> None:
    """Each clip in turn, never stopping the batch on a bad one; nothing is written for a clip that fails."""
    from app.output import clip_record

    options = video_options(args)
    todo = [job for job in jobs if args.overwrite or not clip_done(job, args)]
    summary.skipped += [job.name for job in jobs if job not in todo]
    for job in todo:
        start = time.perf_counter()
        try:
            total = open_clip(job.source, options.fps).info.announced_frames or None
            if total is not None and options.max_frames is not None:
                total = min(total, options.max_frames)
            with tqdm(total=total, unit="frame", desc=job.name, disable=args.quiet, file=sys.stderr) as bar:
                result = lift_clip(job.source, job.name, detector, lifter, options, bar.update)
            drawing = job.outputs.video is not None
            with tqdm(total=result.clip.num_frames, unit="frame", desc="drawing", file=sys.stderr,
                      disable=args.quiet or not drawing) as bar:  # fmt: skip
                page = write_clip_outputs(
                    result,
                    job.outputs,
                    reopen=lambda: open_clip(job.source, options.fps),
                    record=lambda r, motions: clip_record(
                        r.clip, detector, lifter, video_record(r), processing_record(options), motions
                    ),
                    min_score=args.min_score,
                    dpi=args.dpi,
                    progress=bar.update,
                    motion=motion_options(args),
                )
        except SvmacError as err:
            summary.failed[job.name] = str(err).removeprefix(f"{job.source}: ")
            continue
        except OSError as err:
            summary.failed[job.name] = f"cannot write output: {err}"
            continue
        except Exception as err:  # a detector crash in one clip must not end the batch
            summary.failed[job.name] = f"failed: {type(err).__name__}: {err}".splitlines()[0]
            continue
        summary.clips[job.name] = clip_stats(result, time.perf_counter() - start)
        if page is not None:
            collected.pages[job.name] = page
        if job.outputs.bvh_stem is not None:
            collected.bvh[job.name] = [job.outputs.bvh_path(track.track_id) for track in result.clip.tracks]
        if result.notes:
            summary.notes[job.name] = result.notes
        if not result.clip.tracks:
            summary.no_person.append(job.name)


def video_record(result: ClipResult) -> dict:
    """The clip JSON's video fields beyond file, size, frame count and fps."""
    return {
        "announced_frames": result.info.announced_frames,
        "variable_frame_rate": result.clip.times is not None,
        "duration_s": round(float(result.clip.frame_times()[-1]) + 1.0 / result.info.fps, 6),
        "notes": result.notes,
    }


def add_detector_arguments(parser: argparse.ArgumentParser) -> None:
    det = parser.add_argument_group("2D detector")
    det.add_argument("--detector", choices=("mediapipe", "mmpose", "gt"), default="mediapipe")
    det.add_argument("--min-score", type=float, default=0.5, help="joints below this score are drawn as uncertain")
    det.add_argument("--max-people", type=int, default=10,
                     help="at most this many people per photo or frame, largest first")  # fmt: skip
    det.add_argument("--thorough", action="store_true",
                     help="--detector mediapipe: look at every photo turned by quarter turns too (athletes upside "
                     "down or lying; ~1.5x the time); by default only a photo where nobody is found upright")  # fmt: skip
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


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    vid = parser.add_argument_group("people and video")
    vid.add_argument("--frames", metavar="FOLDER",
                     help="a folder of numbered images (frame_0001.png, ...) read as one clip")  # fmt: skip
    vid.add_argument("--fps", type=float, help="--frames: the clip's frame rate (default 30)")
    vid.add_argument("--max-frames", type=int, help="only the first N frames of each clip (a quick look)")
    vid.add_argument("--min-track-seconds", type=float, default=VideoOptions.min_track_s,
                     help="drop people seen for less than this as detector blips (default 0.1; 0 keeps all)")  # fmt: skip
    vid.add_argument("--smooth", action=argparse.BooleanOptionalAction, default=True,
                     help="low-pass each person's 2D joints through the clip before lifting (default on)")
    vid.add_argument("--causal", action="store_true",
                     help="smooth with past frames only, as a live stream would (more lag, no look-ahead)")  # fmt: skip


def add_motion_arguments(parser: argparse.ArgumentParser) -> None:
    mot = parser.add_argument_group("motion outputs (docs/motion_outputs.md); joint angles are always in the JSON")
    mot.add_argument("--bvh", action="store_true",
                     help="a BVH file per person (photo.jpg.person<ID>.bvh) or track (<clip>_track<ID>.bvh)")
    mot.add_argument("--world", action="store_true",
                     help="add each person's joints in a world frame: metres, y up, floor at y = 0, root path")
    mot.add_argument("--height", type=float, metavar="METRES",
                     help="--world: the person's standing height (default: the bone-length prior's adult)")
    mot.add_argument("--focal", type=float, metavar="PX", help="--world: the camera's focal length in pixels")
    mot.add_argument("--fov", type=float, metavar="DEG",
                     help=f"--world: field of view across the image's longer side (default {DEFAULT_FOV_DEG:g})")
    mot.add_argument("--csv", nargs="?", const="", metavar="FILE",
                     help=f"a table, one row per image or frame and person: FILE for a photo or clip, "
                          f"{TABLE_NAME} in --out-dir for a folder's photos (clips always get <clip>.csv)")
    mot.add_argument("--html", action="store_true",
                     help=f"an offline page per photo or clip with a 3D view to turn; a folder's {GALLERY_NAME}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="svmac-demo",
        description="Estimate the 3D poses of every person in photos and videos (SVMAC lifter on a 2D detector).",
        epilog="Output format: docs/output_format.md. Exit status: 0 ok, 1 some input failed, 2 cannot run.",
    )
    p.add_argument("input", nargs="?", help="an image, a video (.mp4 .avi .mov .mkv .webm), or a folder of them")
    p.add_argument("--example", action="store_true",
                   help="use the bundled clip of people walking (examples/README.md)")  # fmt: skip
    out = p.add_argument_group("outputs (existing files are kept unless --overwrite)")
    out.add_argument("--out", help="figure for one image, or for a clip's busiest frame (.png/.pdf/.jpg/.svg)")
    out.add_argument("--out-dir", help="a folder's or clip's outputs: per photo figure + JSON; per clip JSON, NPZ, mp4")
    out.add_argument("--json", help="JSON result for one image or clip (docs/output_format.md)")
    out.add_argument("--npz", help="NPZ with every person's arrays (for a folder: all images in one file)")
    out.add_argument("--no-figure", action="store_true", help="skip figures and annotated videos (much faster)")
    out.add_argument("--overwrite", action="store_true", help="replace existing outputs, redo finished inputs")
    out.add_argument("--dpi", type=int, default=100, help="matplotlib figure resolution (one photo's --out, a clip's still; default 100)")
    add_motion_arguments(p)
    add_video_arguments(p)
    add_detector_arguments(p)
    add_lifter_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary on stdout")
    return p


def check_options(args: argparse.Namespace) -> None:
    if args.batch_size < 1 or args.dpi < 10 or not 0 <= args.min_score <= 1:
        raise SvmacError("--batch-size must be >= 1, --dpi >= 10 and --min-score within [0, 1]")
    if args.max_people < 1 or (args.max_frames is not None and args.max_frames < 1):
        raise SvmacError("--max-people and --max-frames must be at least 1")
    if not 0 <= args.min_track_seconds < float("inf"):
        raise SvmacError("--min-track-seconds must be a number >= 0")
    if sum([args.input is not None, args.example, args.frames is not None]) != 1:
        raise SvmacError("give one image, video or folder, or --frames FOLDER, or --example")
    if args.fps is not None and args.frames is None:
        raise SvmacError("--fps is for --frames (a video file has its own frame rate)")
    if args.fps is not None and not 0 < args.fps <= 1000:
        raise SvmacError("--fps must be within (0, 1000]")
    if args.frames is not None and args.fps is None:
        args.fps = 30.0
    check_world_options(args)


def check_world_options(args: argparse.Namespace) -> None:
    given = [name for name in ("height", "focal", "fov") if getattr(args, name) is not None]
    if given and not args.world:
        raise SvmacError(f"--{given[0]} is for --world (the world frame)")
    if args.focal is not None and args.fov is not None:
        raise SvmacError("give --focal or --fov, not both")
    if args.height is not None and not MIN_HEIGHT_M <= args.height <= MAX_HEIGHT_M:
        raise SvmacError(f"--height is in metres, between {MIN_HEIGHT_M:g} and {MAX_HEIGHT_M:g}")
    if args.focal is not None and not 0 < args.focal < 1e6:
        raise SvmacError("--focal must be a positive number of pixels")
    if args.fov is not None and not 1 <= args.fov <= 179:
        raise SvmacError("--fov must be between 1 and 179 degrees")


def plan(args: argparse.Namespace) -> tuple[Path, list[Job], list[ClipJob], BatchOutputs]:
    """The input and what to do with it: photo jobs, clip jobs and the run-wide outputs."""
    if args.frames is not None:
        source = Path(args.frames)
        if not source.is_dir():
            raise SvmacError(f"--frames {source}: no such folder")
        return source, [], [single_clip_job(args, source)], BatchOutputs()
    source = EXAMPLE_CLIP if args.example else Path(args.input)
    if source.is_dir():
        return source, *batch_jobs(args, source)
    if not source.exists():
        raise SvmacError(f"{source}: no such file or folder")
    if is_video_path(source):
        if args.detector == "gt":
            raise SvmacError("--detector gt finds people by image file name; it cannot read a video")
        return source, [], [single_clip_job(args, source)], BatchOutputs()
    jobs, run_outputs = single_image_jobs(args, source)
    return source, jobs, [], run_outputs


def write_run_outputs(
    batch: BatchOutputs, jobs: list[Job], clip_jobs: list[ClipJob], collected: Collected, args, summary: Summary,
    title: str,
) -> None:  # fmt: skip
    """The photos' table and the gallery, over every finished input: this run's, and those an earlier
    run finished (read back from their JSON), in input order."""
    skipped = set(summary.skipped)
    if batch.csv is not None:
        from app.table import write_csv

        tables = []
        for job in jobs:
            if job.name in collected.tables:
                tables.append(collected.tables[job.name])
            elif job.name in skipped and (clip := read_back(job.name, job.json, summary)) is not None:
                worlds = clip_to_world(clip, world_frame(args)) if args.world else None
                tables.append((clip, worlds or None))
        if tables:
            write_csv(batch.csv, [clip for clip, _ in tables], [worlds for _, worlds in tables])
    if batch.gallery is not None:
        from app.html_view import write_gallery

        pages = []
        for job in [*jobs, *clip_jobs]:
            if job.name in collected.pages:
                pages.append(collected.pages[job.name])
            elif job.name in skipped and (page := finished_page(job, summary)) is not None:
                pages.append(page)
        write_gallery(batch.gallery, pages, title=title, overwrite=True)


def read_back(name: str, result: Path, summary: Summary) -> Clip | None:
    """The clip of an input an earlier run finished, from its JSON; None (and the input counted as
    failed, so the run says so) when that JSON cannot be read."""
    try:
        return clip_from_record(json.loads(result.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        summary.failed[name] = f"cannot read its earlier result {result} (rerun with --overwrite): {err}"
        return None


def finished_page(job: Job | ClipJob, summary: Summary):
    """The gallery entry (app.html_view.HtmlPage) of a page an earlier run wrote: its thumbnail drawn
    again from the JSON, on the photo, or on a plain card for a clip (its frames are not decoded again)."""
    from PIL import Image

    from app.html_view import HtmlPage, gallery_thumbnail

    photo = isinstance(job, Job)
    result, page = (job.json, job.html) if photo else (job.outputs.json, job.outputs.html)
    clip = read_back(job.name, result, summary)
    if clip is None:
        return None
    try:
        picture = Image.fromarray(load_image(job.image)) if photo else None
    except SvmacError:  # the photo went since: its card stays plain
        picture = None
    thumbnail = gallery_thumbnail(picture, clip, clip.num_frames // 2)
    return HtmlPage(page, job.name, clip.num_frames, len(clip.tracks), thumbnail)


def report_single(
    summary: Summary, results: list, jobs: list[Job], clip_jobs: list[ClipJob], batch: BatchOutputs,
    collected: Collected, args,
) -> None:  # fmt: skip
    """The one line printed for a single photo or clip."""
    if jobs and summary.processed:
        people = results[0][1]
        found = f"{len(people)} person(s)" if people else "no person found"
        paths = [*jobs[0].paths(), args.npz, batch.csv, *collected.bvh.get(jobs[0].name, [])]
        written = ", ".join(str(p) for p in paths if p)
        print(f"{jobs[0].name}: {found}" + (f"; wrote {written}" if written else ""))
    for job in clip_jobs:
        if job.name in summary.clips:
            written = ", ".join(map(str, [*job.outputs.paths(), *collected.bvh.get(job.name, [])]))
            print(f"{job.name}: {clip_line(summary.clips[job.name])}; wrote {written}")
        for note in summary.notes.get(job.name, []):
            print(f"note: {job.name}: {note}")


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_options(args)
    source, jobs, clip_jobs, run_outputs = plan(args)
    lifter = Lifter(Path(args.weights), args.device, args.flip_average)
    detector = build_detector(args)

    summary, collected = Summary(), Collected()
    results = process(jobs, detector, lifter, args, summary, collected) if jobs else []
    process_clips(clip_jobs, detector, lifter, args, summary, collected)
    if args.npz and jobs:
        write_npz(Path(args.npz), results)
    if jobs and summary.processed or source.is_dir():
        write_run_outputs(run_outputs, jobs, clip_jobs, collected, args, summary, f"svmac: {source.name}")
    batch = source.is_dir() and args.frames is None
    if batch or (clip_jobs and args.out_dir is not None):
        summary_text = json.dumps(summary.record(), indent=1) + "\n"
        atomic_write_text(Path(args.out_dir) / SUMMARY_NAME, summary_text)
    if not args.quiet:
        if batch:
            print("\n".join(summary.lines()))
        else:
            report_single(summary, results, jobs, clip_jobs, run_outputs, collected, args)
    for name, reason in summary.failed.items():
        print(f"error: {name}: {reason}", file=sys.stderr)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
