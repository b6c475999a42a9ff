"""A video (or a folder of frames) -> every person tracked through it -> 2D smoothed per track ->
3D lifted in large batches -> an app.clip.Clip; and the clip's outputs.

The clip is read twice, as streams: once to detect and track people, once (only when an annotated
video or a still is asked for) to draw on the frames. Between the passes only the people's arrays
are kept, so memory follows the number of people-frames, not the video's pixels.
"""

import math
import time
from collections.abc import Callable, Iterable
from itertools import islice
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.clip import Clip, PoseTrack
from app.flow_follow import FlowFollowing
from app.look_back import RecentFrames, follow_back
from app.motion import MotionOptions, clip_motion, worlds_of
from app.pipeline import Lifter, prepare
from app.video_io import Frame, ReadReport, VideoInfo, VideoWriter, open_clip
from detector_adapters.base import DetectedPerson, box_area, box_iou
from lifter.errors import SvmacError
from lifter.priors import metric_scale

# Two detections whose boxes overlap this much are one person found twice.
DUPLICATE_IOU = 0.6
# Landmarks found in a predicted box whose own box overlaps it less than this have lost the person
# (e.g. only the legs were found): they are dropped.
KEPT_IOU = 0.5
# Poses lifted per call: large enough that the per-call cost vanishes, small enough for any memory.
LIFT_BATCH = 8192
# The annotated video is at most this tall (4K frames are drawn downscaled: same picture, sane files).
MAX_VIDEO_HEIGHT = 1920


@dataclass(frozen=True)
class VideoOptions:
    max_people: int = 10
    smooth: bool = True
    causal: bool = False  # smoothing that uses only past frames, as a live stream would
    fps: float | None = None  # frame rate of a folder of frames
    min_score: float = 0.5  # joints below it are smoothed over (when short gaps) and drawn as uncertain
    max_frames: int | None = None  # only the clip's first frames (a quick look at a long video)
    # The person detector searches the whole frame on every this many frames (and while nobody is
    # followed); in between, landmarks are found in the boxes the tracker predicts, and a person lost
    # there waits for the next search. benchmarks/video_tracking.py measures the choice.
    redetect_every: int = 10
    # Tracks seen for less than this are dropped as detector blips (a false person for a frame or
    # two, a body found twice while two people overlap): cam01-04 of the pose2sim clips have such
    # 1-3 frame tracks and no real person seen for under 0.25 s (reports/video_tracking.md).
    min_track_s: float = 0.1
    # Someone lost where another person is seen (hidden behind them, or merged with them by the landmark
    # model) is searched for on every frame while their track lives (search_for_hidden). Without it, on
    # pose2sim cam03 the man's track splits in two during his overlap with the woman (reports/video_tracking.md).
    search_hidden: bool = True
    # A person whose track is confirmed is followed back through the frames before it started
    # (app.look_back): the person detector finds a small or half-hidden person some frames late.
    # Never in a causal run: a live stream cannot redraw frames it has shown.
    look_back: bool = True
    # People who overlap someone are followed by optical flow too (app.flow_follow): a detection that
    # disagrees with it (the other person's skeleton given for their region) is dropped, and where the
    # detector loses them flow carries them, at most flow_follow.MAX_FOLLOW_S at a time. On pose2sim cam03
    # it keeps the man through his overlap with the woman (reports/video_tracking.md).
    flow_follow: bool = True


@dataclass
class TrackRows:
    """One track's detections as they arrive, frame by frame."""

    frames: list[int] = field(default_factory=list)
    bbox: list[np.ndarray] = field(default_factory=list)  # (4,) each
    keypoints_2d: list[np.ndarray] = field(default_factory=list)  # (17, 2)
    scores: list[np.ndarray] = field(default_factory=list)  # (17,)
    imputed: list[np.ndarray] = field(default_factory=list)  # (17,)
    detection_score: list[float] = field(default_factory=list)  # NaN when the detector gives none
    detector_keypoints: list[np.ndarray] = field(default_factory=list)  # (K, 2)
    detector_scores: list[np.ndarray] = field(default_factory=list)  # (K,)
    detector_pose_3d_m: list[np.ndarray | None] = field(default_factory=list)  # (17, 3)
    keypoint_format: str = ""


@dataclass
class ClipTiming:
    decode: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    smooth: float = 0.0
    lift: float = 0.0
    draw: float = 0.0
    write: float = 0.0


@dataclass
class ClipResult:
    clip: Clip
    info: VideoInfo
    report: ReadReport
    notes: list[str]  # one line each: things the user should know about this clip
    skipped_people: int  # detections that could not be lifted (e.g. too few joints)
    timing: ClipTiming


def without_duplicates(people: list[DetectedPerson]) -> list[DetectedPerson]:
    """Two predicted boxes can drift onto one person: keep the surer of two near-identical detections."""
    kept: list[DetectedPerson] = []
    for person in sorted(people, key=lambda p: -float(np.mean(p.scores))):
        if all(box_iou(person.bbox, other.bbox) < DUPLICATE_IOU for other in kept):
            kept.append(person)
    return kept


def detect_people(detector, frame: Frame, tracker, options: VideoOptions) -> list[DetectedPerson]:
    """Everyone in the frame, at most options.max_people, biggest first. Between full detections (every
    options.redetect_every frames), looks inside the tracker's predicted boxes when the detector can
    (detect_in_boxes); someone lost there is left to the next full detection, unless they were lost
    where someone else is seen (options.search_hidden)."""
    in_boxes = getattr(detector, "detect_in_boxes", None)
    predicted = tracker.predicted_boxes()
    max_people = options.max_people
    if in_boxes is None or not predicted or frame.index % options.redetect_every == 0:
        return without_duplicates(detector.detect(frame.rgb))[:max_people]
    hidden = tracker.hidden_tracks() if options.search_hidden else []
    if hidden:
        return search_for_hidden(detector, frame, tracker, hidden)[:max_people]
    boxes = np.stack(list(predicted.values()))  # (N, 4)
    found = in_boxes(frame.rgb, boxes)
    kept = [p for p, box in zip(found, boxes) if p is not None and box_iou(p.bbox, box) >= KEPT_IOU]
    return sorted(without_duplicates(kept), key=lambda p: -box_area(p.bbox))[:max_people]


def search_for_hidden(detector, frame: Frame, tracker, hidden: list) -> list[DetectedPerson]:
    """A full detection on a frame between the regular ones, for people lost where someone else is seen
    (hidden behind them, or merged into them by a landmark model that gave one skeleton for both): a
    detector following only the people it sees would not look for them again. Of what it finds, only
    the people followed and those where a hidden person was are kept; anyone new elsewhere waits for
    the regular detection, as between any two."""
    from app.tracking import HIDDEN_OVERLAP, overlap_of_smaller

    frame_index = tracker.frame + 1
    wanted = [t.predicted_box(frame_index) for t in tracker.seen_tracks() + hidden]  # (4,) each
    people = without_duplicates(detector.detect(frame.rgb))
    return [p for p in people if any(overlap_of_smaller(p.bbox, box) >= HIDDEN_OVERLAP for box in wanted)]


def detect_and_track(
    reader, detector, options: VideoOptions, timing: ClipTiming, progress: Callable[[int], None]
) -> tuple[dict[int, TrackRows], int]:
    """First pass: every frame's people, each given a track id. -> (rows per track id, people skipped)."""
    from app.tracking import Tracker

    tracker = Tracker(fps=reader.info.fps, confirm_s=options.min_track_s)
    # A detector that can follow people from one frame to the next does (MediaPipeDetector.for_video).
    for_video = getattr(detector, "for_video", None)
    detector = detector if for_video is None else for_video()
    rows: dict[int, TrackRows] = {}
    skipped = 0
    # A track is no blip once this long (without_blips): then it is followed back, over at most one
    # interval between searches before its first frame.
    confirm_frames = min_track_frames(options.min_track_s, reader.info.fps)
    recent = None
    if options.look_back and not options.causal and hasattr(detector, "follow_back"):
        recent = RecentFrames(max_frames=options.redetect_every + confirm_frames)
    flow = FlowFollowing(reader.info.fps, DUPLICATE_IOU) if options.flow_follow else None
    tic = time.perf_counter()
    for frame in reader:
        timing.decode += time.perf_counter() - tic
        tic = time.perf_counter()
        people = detect_people(detector, frame, tracker, options)
        timing.detect += time.perf_counter() - tic
        tic = time.perf_counter()
        prepared = []
        for person in people:
            try:
                prepared.append(prepare(person))
            except SvmacError:
                skipped += 1
        flowed = None if flow is None else flow.predict(tracker, frame.rgb)
        if prepared:
            boxes = np.stack([p.detection.bbox for p in prepared])  # (N, 4)
            ids = tracker.update(
                boxes, np.stack([p.keypoints_2d for p in prepared]), np.stack([p.scores for p in prepared]), flowed
            )
        else:
            ids = tracker.update(np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17)), flowed)
        found = dict(zip(ids, prepared))
        if flow is not None:
            found = flow.settle(tracker, found)
        for track_id, person in found.items():
            append_row(rows.setdefault(int(track_id), TrackRows()), frame.index, person)
        timing.track += time.perf_counter() - tic
        if recent is not None:
            tic = time.perf_counter()
            recent.add(frame, [p.detection.bbox for p in prepared])
            for track_id in ids:
                track = rows[int(track_id)]
                if len(track.frames) == confirm_frames:
                    earlier = follow_back(detector, recent, track.frames[0], track.bbox[0], DUPLICATE_IOU)
                    rows[int(track_id)] = with_earlier_rows(track, earlier)
            timing.detect += time.perf_counter() - tic
        progress(1)
        if options.max_frames is not None and frame.index + 1 >= options.max_frames:
            break
        tic = time.perf_counter()
    return rows, skipped


def with_earlier_rows(track: TrackRows, earlier: list[tuple[int, DetectedPerson]]) -> TrackRows:
    """The track with the people found on frames before its first, [(frame index, person)] oldest first,
    put in front (those that cannot be lifted end the run: a track's rows stay consecutive)."""
    rows = TrackRows()
    for index, person in earlier:
        try:
            prepared = prepare(person)
        except SvmacError:
            rows = TrackRows()  # only the frames after the last one that could not be lifted
            continue
        append_row(rows, index, prepared)
    if not rows.frames:
        return track
    for name in ("frames", "bbox", "keypoints_2d", "scores", "imputed", "detection_score", "detector_keypoints",
                 "detector_scores", "detector_pose_3d_m"):  # fmt: skip
        getattr(rows, name).extend(getattr(track, name))
    rows.keypoint_format = track.keypoint_format
    return rows


def append_row(track: TrackRows, index: int, person) -> None:
    """person: an app.pipeline.PreparedPerson of frame `index`."""
    detection = person.detection
    track.frames.append(index)
    track.bbox.append(np.asarray(detection.bbox, np.float64))
    track.keypoints_2d.append(person.keypoints_2d)
    track.scores.append(person.scores)
    track.imputed.append(person.imputed)
    track.detection_score.append(np.nan if detection.score is None else float(detection.score))
    track.detector_keypoints.append(np.asarray(detection.keypoints, np.float64))
    track.detector_scores.append(np.asarray(detection.scores, np.float64))
    track.detector_pose_3d_m.append(person.detector_pose_3d)
    track.keypoint_format = detection.keypoint_format


def smoothed_2d(rows: TrackRows, fps: float, options: VideoOptions) -> np.ndarray:
    """The track's 2D joints (F, 17, 2), low-passed when smoothing is on."""
    keypoints = np.stack(rows.keypoints_2d)  # (F, 17, 2)
    if not options.smooth:
        return keypoints
    from app.smoothing import smooth_track_2d

    smooth, _ = smooth_track_2d(keypoints, np.stack(rows.scores), np.array(rows.frames), fps,
                                causal=options.causal, min_score=options.min_score)  # fmt: skip
    # A joint the smoother could not place (never seen well) keeps its detected position.
    return np.where(np.isfinite(smooth), smooth, keypoints)


def lift_tracks(lifter: Lifter, keypoints: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every track's (F_i, 17, 2) pixels, lifted in large batches.
    -> per track (pose_3d (F_i, 17, 3), camera (F_i, 2, 3))."""
    if not keypoints:
        return []
    everything = np.concatenate(keypoints)  # (sum F_i, 17, 2)
    poses, cameras = [], []
    for start in range(0, len(everything), LIFT_BATCH):
        pose, camera = lifter.lift(everything[start : start + LIFT_BATCH])
        poses.append(pose.astype(np.float64))
        cameras.append(camera.astype(np.float64))
    ends = np.cumsum([len(k) for k in keypoints])[:-1]
    return list(zip(np.split(np.concatenate(poses), ends), np.split(np.concatenate(cameras), ends)))


def build_tracks(rows: dict[int, TrackRows], fps: float, lifter: Lifter, options: VideoOptions, timing: ClipTiming):
    """Rows of every track -> PoseTracks, smoothed and lifted. -> list[PoseTrack] by track id."""
    ordered = sorted(rows.items())
    tic = time.perf_counter()
    keypoints = [smoothed_2d(track, fps, options) for _, track in ordered]
    timing.smooth += time.perf_counter() - tic
    tic = time.perf_counter()
    lifted = lift_tracks(lifter, keypoints)
    timing.lift += time.perf_counter() - tic
    tracks = []
    for (track_id, track), points, (pose_3d, camera) in zip(ordered, keypoints, lifted):
        # One person keeps one size through the clip: a single scale per track (the median of the
        # per-frame ones) instead of a per-frame one that would make bones stretch from frame to frame.
        scale = float(np.median(metric_scale(pose_3d)))
        detector_3d = track.detector_pose_3d_m
        tracks.append(
            PoseTrack(
                track_id=track_id,
                frames=np.array(track.frames, np.int64),
                bbox=np.stack(track.bbox),
                keypoints_2d=points,
                scores=np.stack(track.scores),
                imputed=np.stack(track.imputed),
                pose_3d=pose_3d,
                pose_3d_mm=pose_3d * scale,
                camera=camera,
                detection_score=None if np.isnan(track.detection_score).all() else np.array(track.detection_score),
                keypoint_format=track.keypoint_format,
                detector_keypoints=np.stack(track.detector_keypoints),
                detector_scores=np.stack(track.detector_scores),
                detector_pose_3d_m=None if any(d is None for d in detector_3d) else np.stack(detector_3d),
            )
        )
    return tracks


def min_track_frames(min_track_s: float, fps: float) -> int:
    """The frames a track must be seen on not to be a blip (at least one)."""
    return max(1, math.ceil(min_track_s * fps))


def without_blips(rows: dict[int, TrackRows], fps: float, frames_read: int, min_track_s: float) -> dict[int, TrackRows]:
    """The tracks seen for at least min_track_s (never asking more than half of a short clip)."""
    needed = min(min_track_frames(min_track_s, fps), max(1, frames_read // 2))
    return {track_id: track for track_id, track in rows.items() if len(track.frames) >= needed}


def reading_notes(info: VideoInfo, report: ReadReport) -> list[str]:
    notes = list(info.notes)
    if report.ended_early:
        notes.append(
            f"decoded {report.frames} of the {info.announced_frames} frames the file announces "
            f"(truncated or damaged: {report.damage[-1]}); the readable part was processed"
        )
    elif report.damage:
        notes.append(f"the decoder reported damage ({report.damage[0]}); frames it could decode were processed")
    if report.variable_frame_rate():
        intervals = report.intervals_s() * 1000
        notes.append(
            f"variable frame rate (frame intervals {intervals.min():.1f}-{intervals.max():.1f} ms): times are the "
            f"file's own timestamps; the annotated video plays at the mean rate {report.mean_fps(info.fps):.2f} fps"
        )
    return notes


def lift_clip(
    source: Path, name: str, detector, lifter: Lifter, options: VideoOptions, progress: Callable[[int], None]
) -> ClipResult:
    """Detect, track, smooth and lift every person of a video file or frame folder."""
    reader = open_clip(source, options.fps)
    timing = ClipTiming()
    rows, skipped = detect_and_track(reader, detector, options, timing, progress)
    report, info = reader.report, reader.info
    kept = without_blips(rows, info.fps, report.frames, options.min_track_s)
    tracks = build_tracks(kept, info.fps, lifter, options, timing)
    times = np.asarray(report.times_s) - report.times_s[0] if report.variable_frame_rate() else None
    clip = Clip(name=name, width=info.width, height=info.height, num_frames=report.frames, fps=info.fps,
                tracks=tracks, times=times)  # fmt: skip
    notes = reading_notes(info, report)
    if skipped:
        notes.append(f"{skipped} detection(s) in all could not be lifted and were left out")
    if len(kept) < len(rows):
        notes.append(f"{len(rows) - len(kept)} track(s) seen for under {options.min_track_s:g} s were dropped as blips")
    return ClipResult(clip, info, report, notes, skipped, timing)


def people_by_frame(clip: Clip) -> Iterable[list[tuple[PoseTrack, int]]]:
    """For frame 0, 1, ...: the (track, row in its arrays) of every person present."""
    for present in clip.rows_by_frame():
        yield [(clip.tracks[column], row) for column, row in present]


def busiest_frame(clip: Clip) -> int:
    """The frame with the most people (the one nearest the middle among ties): the clip's still."""
    counts = np.zeros(clip.num_frames, np.int64)
    for track in clip.tracks:
        counts[track.frames] += 1
    distance = np.abs(np.arange(clip.num_frames) - (clip.num_frames - 1) / 2)
    return int(np.lexsort((distance, -counts))[0])


def drawn_people(present: list[tuple[PoseTrack, int]]):
    from app.draw import DrawnPerson

    return [
        DrawnPerson(track.track_id, track.keypoints_2d[row], track.scores[row], track.pose_3d_mm[row])
        for track, row in present
    ]


def write_annotated_video(
    path: Path, result: ClipResult, frames: Iterable[Frame], min_score: float, progress: Callable[[int], None]
) -> None:
    """Second pass: each frame with every person's 2D skeleton and id beside their 3D skeletons,
    at the source frame rate (the mean rate for a variable one)."""
    from app.draw import draw_frame

    clip, timing = result.clip, result.timing
    fps = result.report.mean_fps(result.info.fps) if clip.times is not None else result.info.fps
    height = MAX_VIDEO_HEIGHT if clip.height > MAX_VIDEO_HEIGHT else None  # None: draw_frame's own choice
    picture = None  # one output array, drawn into again for every frame
    with VideoWriter(path, fps) as writer:
        for frame, present in zip(frames, people_by_frame(clip)):
            tic = time.perf_counter()
            people = drawn_people(present)
            picture = draw_frame(frame.rgb, people, min_score=min_score, panel_height=height, out=picture)
            timing.draw += time.perf_counter() - tic
            tic = time.perf_counter()
            writer.write(picture)
            timing.write += time.perf_counter() - tic
            progress(1)


def write_still(path: Path, result: ClipResult, frames: Iterable[Frame], min_score: float, dpi: int) -> int:
    """The busiest frame as the photo figure (app.render, any of its formats). -> the frame's index."""
    from app.render import PersonDrawing, render_pose_figure

    clip = result.clip
    wanted = busiest_frame(clip)
    for frame, present in zip(frames, people_by_frame(clip)):
        if frame.index == wanted:
            people = [PersonDrawing(t.keypoints_2d[r], t.scores[r], t.pose_3d_mm[r]) for t, r in present]
            title = f"{clip.name}, frame {wanted} ({frame.time_s:.2f} s)"
            render_pose_figure(frame.rgb, people, path, min_score=min_score, title=title, dpi=dpi, unit="mm")
            return wanted
    raise SvmacError(f"{clip.name}: frame {wanted} could not be read again")


@dataclass(frozen=True)
class ClipOutputs:
    """Where one clip's outputs go; None: not asked for."""

    json: Path | None = None
    npz: Path | None = None
    csv: Path | None = None
    video: Path | None = None  # the annotated mp4
    still: Path | None = None  # the busiest frame as a figure (.png/.pdf/.jpg/.svg)
    html: Path | None = None  # the interactive page (app.html_view)
    bvh_stem: Path | None = None  # one BVH per track: <bvh_stem>_track<ID>.bvh

    def paths(self) -> list[Path]:
        """Every output whose name is known before the clip is read (the BVH files depend on its tracks)."""
        outputs = (self.json, self.npz, self.csv, self.video, self.still, self.html)
        return [path for path in outputs if path is not None]

    def bvh_path(self, track_id: int) -> Path:
        return self.bvh_stem.with_name(f"{self.bvh_stem.name}_track{track_id}.bvh")


def write_clip_outputs(
    result: ClipResult,
    outputs: ClipOutputs,
    reopen: Callable[[], Iterable[Frame]],
    record: Callable[[ClipResult, dict], dict],
    min_score: float,
    dpi: int,
    progress: Callable[[int], None],
    motion: MotionOptions = MotionOptions(),
):
    """Every asked-for output of one clip. reopen() streams the frames again for drawing; record(result,
    motions) gives the clip JSON (motions: app.motion.clip_motion by track id). The JSON goes last: its
    presence marks the clip as done for a re-run. -> the HTML page (app.html_view.HtmlPage) or None."""
    from app.output import write_clip_npz, write_json

    clip = result.clip
    bvh_path = outputs.bvh_path if outputs.bvh_stem is not None else None
    motions = clip_motion(clip, motion, bvh_path)
    if outputs.video is not None:
        write_annotated_video(outputs.video, result, reopen(), min_score, progress)
    if outputs.still is not None:
        write_still(outputs.still, result, reopen(), min_score, dpi)
    if outputs.npz is not None:
        write_clip_npz(outputs.npz, clip)
    if outputs.csv is not None:
        from app.table import write_csv

        write_csv(outputs.csv, clip, worlds_of(motions))
    page = None
    if outputs.html is not None:
        from app.html_view import write_clip_html

        # The paths were checked before the clip was read (or belong to an unfinished input of a batch).
        frames = (frame.rgb for frame in islice(reopen(), clip.num_frames))  # --max-frames: the clip's only
        page = write_clip_html(outputs.html, clip, frames, overwrite=True, min_score=min_score)
    if outputs.json is not None:
        write_json(outputs.json, record(result, motions), compact=True)
    return page
