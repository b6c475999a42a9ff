"""Video frames in and out, one frame at a time, so memory does not grow with a clip's length.

Reading goes through OpenCV's FFmpeg backend (the opencv-python wheel bundles FFmpeg, so
mp4, avi, mov, mkv and webm decode on any machine). FFmpeg reports damage on its own stderr
from C code; that text is caught and turned into the one-line reasons the tool prints,
instead of reaching the user's terminal as a stream of cryptic lines. AV1, which that FFmpeg
cannot decode without a hardware decoder, is decoded by PyAV's FFmpeg (it carries dav1d).
A folder of numbered images reads as a clip too.
"""

import contextlib
import ctypes
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detector_adapters.image_io import MAX_PIXELS, is_image_path, load_image
from lifter.checkpoint import current_umask
from lifter.errors import SvmacError

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm")
# A container that announces no frame rate (or an absurd one) is read at this rate.
FALLBACK_FPS = 25.0
MAX_FPS = 1000.0
# Frame intervals further than this fraction from the median make a clip "variable frame rate".
VFR_TOLERANCE = 0.25
# mp4v (MPEG-4 Part 2) is the codec every opencv-python wheel can encode; H.264 needs a system FFmpeg.
WRITER_FOURCC = "mp4v"
# Codecs (as OpenCV's FourCC names them) that opencv-python's FFmpeg has no software decoder for,
# decoded with PyAV instead: AV1 (YouTube downloads, recent phones).
PYAV_CODECS: frozenset[str] = frozenset({"AV01"})


def is_video_path(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based position in the clip
    time_s: float  # seconds from the clip's start: the file's own timestamp when it has one
    rgb: np.ndarray  # (H, W, 3) uint8


@dataclass
class ReadReport:
    """What one pass over a clip found; complete once the pass has ended."""

    frames: int = 0
    times_s: list[float] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)  # decoder complaints, deduplicated, in order
    ended_early: bool = False  # fewer frames than the container announced

    def intervals_s(self) -> np.ndarray:
        return np.diff(np.asarray(self.times_s, np.float64))  # (frames - 1,)

    def variable_frame_rate(self) -> bool:
        intervals = self.intervals_s()
        if len(intervals) < 2:
            return False
        median = float(np.median(intervals))
        return median > 0 and bool(np.any(np.abs(intervals - median) > VFR_TOLERANCE * median))

    def mean_fps(self, nominal: float) -> float:
        """Frames per second over the whole pass (the nominal rate for one or two frames)."""
        span = self.times_s[-1] - self.times_s[0] if len(self.times_s) > 1 else 0.0
        return (len(self.times_s) - 1) / span if span > 0 else nominal


@contextlib.contextmanager
def native_stderr_captured(sink: list[str]) -> Iterator[None]:
    """Send what C libraries write on file descriptor 2 into sink (one entry per line) for the
    duration; Python's own stderr is untouched outside the block."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        try:
            os.dup2(capture.fileno(), 2)
            yield
        finally:
            ctypes.CDLL(None).fflush(None)  # C stdio buffers still point at the capture file
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            sink.extend(line.strip() for line in capture.read().decode(errors="replace").splitlines() if line.strip())


def plain_message(line: str) -> str:
    """'[mov,mp4,m4a @ 0x55...] moov atom not found' -> 'moov atom not found'."""
    line = re.sub(r"^\[[^\]]*\]\s*", "", line)  # FFmpeg's "[demuxer @ address]"
    return re.sub(r"^global \S+ \w+\s+", "", line)  # OpenCV's "global file.cpp:123 function"


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float  # nominal frames per second (the container's, or the one given for a folder)
    announced_frames: int  # frames the container says it holds (0: it does not say)
    notes: tuple[str, ...] = ()  # things the user should know (e.g. an assumed frame rate)


class VideoFileReader:
    """Frames of a video file, decoded one at a time. Opening checks the file decodes at all."""

    def __init__(self, path: Path) -> None:
        import cv2

        self.path = Path(path)
        if not self.path.is_file():
            raise SvmacError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise SvmacError(f"{self.path}: empty file")
        complaints: list[str] = []
        with native_stderr_captured(complaints):
            capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
            opened = capture.isOpened()
            # A phone's portrait clip is stored turned, with the turn in its header: frames (and the
            # width and height below) come out upright, as players show them. OpenCV's default today;
            # asked for here so the tool does not rest on it.
            if opened:
                capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        if not opened:
            capture.release()
            raise SvmacError(f"{self.path}: cannot decode as a video ({self.reason(complaints)})")
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > MAX_PIXELS:
            capture.release()
            raise SvmacError(
                f"{self.path}: {width}x{height} frames are more than the {MAX_PIXELS / 1e6:.0f} MP limit; "
                "downscale it first"
            )
        fps, notes = float(capture.get(cv2.CAP_PROP_FPS)), []
        if not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
            notes.append(f"the file gives no usable frame rate ({fps:g}); assumed {FALLBACK_FPS:g} fps")
            fps = FALLBACK_FPS
        announced = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
        self.info = VideoInfo(self.path, width, height, fps, announced, tuple(notes))
        self.report = ReadReport()
        self.codec = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("latin-1").upper()
        self._capture = capture
        if self.codec in PYAV_CODECS:  # OpenCV measured the clip above; PyAV decodes it
            capture.release()
            self._capture = None

    @staticmethod
    def reason(complaints: list[str]) -> str:
        messages = [plain_message(line) for line in complaints]
        messages = [m for m in messages if m and "VIDEOIO" not in m]  # OpenCV's generic "could not open"
        if any("moov atom not found" in m for m in messages):
            return "no MP4 index ('moov atom not found'): truncated, unfinished, or not an MP4 file"
        if any("Could not find decoder" in m for m in messages):
            return f"a codec this FFmpeg build cannot decode ({messages[0]})"
        return messages[0] if messages else "damaged, truncated, or not a video file"

    def __iter__(self) -> Iterator[Frame]:
        report = self.report
        decoded = self._opencv_decoded() if self._capture is not None else self._pyav_decoded()
        try:
            for rgb, stamp_s in decoded:
                if rgb.shape[:2] != (self.info.height, self.info.width):
                    raise SvmacError(
                        f"{self.path}: frame {report.frames} is {rgb.shape[1]}x{rgb.shape[0]}, "
                        f"the clip {self.info.width}x{self.info.height}; frame size changes are not supported"
                    )
                time_s = stamp_s
                # Some streams carry no timestamps (always 0): count frames at the nominal rate instead.
                if report.times_s and not time_s > report.times_s[-1]:
                    time_s = report.times_s[-1] + 1.0 / self.info.fps
                report.times_s.append(time_s)
                report.frames += 1  # counted before the yield: a caller may stop after any frame
                yield Frame(report.frames - 1, time_s - report.times_s[0], rgb)
        finally:
            decoded.close()
            self.close()
        report.ended_early = 0 < report.frames < self.info.announced_frames and bool(report.damage)
        if report.frames == 0:
            detail = f" ({report.damage[-1]})" if report.damage else ""
            raise SvmacError(f"{self.path}: no frame could be decoded{detail}")

    def _note_damage(self, messages: Iterable[str]) -> None:
        for message in map(plain_message, messages):
            if message not in self.report.damage:
                self.report.damage.append(message)

    def _opencv_decoded(self) -> Iterator[tuple[np.ndarray, float]]:
        """(frame (H, W, 3) uint8 RGB, its timestamp s) until the stream ends or breaks."""
        import cv2

        while True:
            complaints: list[str] = []
            with native_stderr_captured(complaints):
                ok, bgr = self._capture.read()
                stamp_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
            self._note_damage(complaints)
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), stamp_ms / 1000.0

    def _pyav_decoded(self) -> Iterator[tuple[np.ndarray, float]]:
        """As _opencv_decoded, through PyAV; FFmpeg's warnings and errors become the report's damage."""
        import av
        import av.logging

        level = av.logging.get_level()
        av.logging.set_level(av.logging.WARNING)  # PyAV passes on nothing by default; caught, not printed
        with av.logging.Capture(local=False) as logs:  # decoder threads too
            try:
                with av.open(str(self.path)) as container:
                    stream = container.streams.video[0]
                    stream.thread_type = "AUTO"
                    for frame in container.decode(stream):
                        rgb = frame.to_ndarray(format="rgb24")  # as stored
                        # Upright, as OpenCV turns the other codecs: the header's turn, counter-clockwise.
                        turns = round(frame.rotation / 90) % 4
                        if turns:
                            rgb = np.ascontiguousarray(np.rot90(rgb, turns))
                        yield rgb, 0.0 if frame.time is None else float(frame.time)
            except av.error.FFmpegError as err:
                logs.append((av.logging.ERROR, "", str(err)))
            finally:
                av.logging.set_level(level)
                self._note_damage(message.strip() for _, _, message in logs)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()


def frame_number(path: Path) -> int:
    """frame_000123.png -> 123: the last run of digits in the file name's stem."""
    digits = re.findall(r"\d+", path.stem)
    return int(digits[-1]) if digits else -1


class FrameFolderReader:
    """A folder of numbered images (frame_0001.png, ...) as a clip, in the order of their numbers."""

    def __init__(self, folder: Path, fps: float) -> None:
        self.path = Path(folder)
        if not self.path.is_dir():
            raise SvmacError(f"{self.path}: no such folder")
        images = [p for p in self.path.iterdir() if p.is_file() and is_image_path(p)]
        if not images:
            raise SvmacError(f"{self.path}: no images in the frame folder")
        unnumbered = [p.name for p in images if frame_number(p) < 0]
        if unnumbered:
            raise SvmacError(f"{self.path}: frame images must be numbered (e.g. frame_0001.png), not {unnumbered[0]}")
        self.images = sorted(images, key=lambda p: (frame_number(p), p.name))
        first = load_image(self.images[0])
        height, width = first.shape[:2]
        self.info = VideoInfo(self.path, width, height, fps, len(self.images))
        self.report = ReadReport()

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.images):
            image = load_image(path)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise SvmacError(
                    f"{path}: {image.shape[1]}x{image.shape[0]}, but the first frame is "
                    f"{self.info.width}x{self.info.height}; all frames must have one size"
                )
            self.report.times_s.append(index / self.info.fps)
            self.report.frames += 1
            yield Frame(index, index / self.info.fps, image)


def open_clip(source: Path, fps: float | None = None) -> VideoFileReader | FrameFolderReader:
    """A reader for a video file, or (with fps) a folder of numbered frames."""
    if Path(source).is_dir():
        if fps is None:
            raise SvmacError(f"{source}: a folder of frames needs a frame rate (--fps)")
        return FrameFolderReader(Path(source), fps)
    return VideoFileReader(Path(source))


def iter_frames(path: Path, fps: float | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, time_s, frame (H, W, 3) uint8 RGB) for every frame of a video or frame folder."""
    for frame in open_clip(path, fps):
        yield frame.index, frame.time_s, frame.rgb


class VideoWriter:
    """An mp4 written under a hidden temporary name and renamed into place when complete, so a
    crash or a failed clip never leaves half a video under the real name. Use as a context manager."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The temporary name keeps the .mp4 suffix: OpenCV picks the container from it.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp.mp4")
        os.close(fd)
        self.tmp = Path(tmp)
        self._writer = None
        self.frames = 0

    def write(self, frame_rgb: np.ndarray) -> None:
        """(H, W, 3) uint8 RGB; every frame must have the first one's size."""
        import cv2

        height, width = frame_rgb.shape[:2]
        if self._writer is None:
            complaints: list[str] = []
            with native_stderr_captured(complaints):
                fourcc = cv2.VideoWriter_fourcc(*WRITER_FOURCC)
                self._writer = cv2.VideoWriter(str(self.tmp), fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                reason = "; ".join(map(plain_message, complaints)) or "unknown reason"
                raise SvmacError(f"{self.path}: cannot start the video writer ({reason})")
            self.size = (width, height)
        if (width, height) != self.size:
            raise ValueError(f"frame {self.frames} is {width}x{height}, the video {self.size[0]}x{self.size[1]}")
        self._writer.write(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))  # 4x faster than a reversed numpy copy
        self.frames += 1

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self._writer is not None:
            self._writer.release()
        if kind is None and self.frames > 0:
            os.chmod(self.tmp, 0o666 & ~current_umask())
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
