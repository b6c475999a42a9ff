"""Streamed video reading and atomic video writing on real files made here (and the bundled clip):
damaged, truncated, empty, foreign-codec and variable-frame-rate files each give one clear line."""

import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from app.video_io import FrameFolderReader, VideoFileReader, VideoWriter, iter_frames, open_clip  # noqa: E402
from lifter.errors import SvmacError  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pose2sim_cam01.mp4"
SAMPLE_TABLE = [b"moov", b"trak", b"mdia", b"minf", b"stbl"]


def colour_frame(index: int, width: int = 64, height: int = 48) -> np.ndarray:
    """(H, W, 3) uint8 RGB: red rises with the index, green is 0, blue fixed; plus a moving white bar."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = min(255, 10 * index)
    frame[..., 2] = 200
    frame[:, (3 * index) % width] = 255
    return frame


def write_video(path: Path, count: int, fourcc: str = "mp4v", fps: float = 25.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (64, 48))
    assert writer.isOpened()
    for index in range(count):
        writer.write(colour_frame(index)[..., ::-1])  # OpenCV writes BGR
    writer.release()
    return path


def mp4_boxes(data: bytes, start: int, end: int):
    position = start
    while position < end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        yield position, size, kind
        position += size


def replace_mp4_box(data: bytes, path: list[bytes], rewrite) -> bytes:
    """The MP4 with the box at `path` (e.g. moov/trak/.../stts) rewritten and its parents resized.
    OpenCV's writer puts moov after mdat, so no chunk offset moves."""

    def rebuild(start: int, end: int, path: list[bytes]) -> bytes:
        out = bytearray()
        for position, size, kind in mp4_boxes(data, start, end):
            if kind == path[0]:
                body = rewrite(data[position + 8 : position + size]) if len(path) == 1 else rebuild(
                    position + 8, position + size, path[1:]
                )
                out += struct.pack(">I4s", len(body) + 8, kind) + body
            else:
                out += data[position : position + size]
        return bytes(out)

    return rebuild(0, len(data), path)


def with_quarter_turn(mp4: bytes) -> bytes:
    """The MP4 with a phone's turn written into its track header (tkhd's display matrix), which FFmpeg
    reads as a quarter turn counter-clockwise to show it upright."""

    def turned(tkhd: bytes) -> bytes:
        matrix_at = 40 if tkhd[0] == 0 else 52  # after the version-0 or version-1 times
        matrix = struct.pack(">9i", 0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30)  # 16.16 fixed point; w 2.30
        return tkhd[:matrix_at] + matrix + tkhd[matrix_at + 36 :]

    return replace_mp4_box(mp4, [b"moov", b"trak", b"tkhd"], turned)


def test_frames_stream_in_order_with_times_and_rgb_colours(tmp_path):
    video = write_video(tmp_path / "clip.MP4", 20)  # upper-case extension
    frames = list(iter_frames(video))
    assert [index for index, _, _ in frames] == list(range(20))
    np.testing.assert_allclose([time for _, time, _ in frames], np.arange(20) / 25.0, atol=1e-6)
    _, _, last = frames[-1]
    assert last.shape == (48, 64, 3) and last.dtype == np.uint8
    # Channel order survives the BGR round trip: red ~190, blue ~200, green ~0 (lossy codec).
    red, green, blue = np.median(last.reshape(-1, 3), axis=0)
    assert abs(red - 190) < 12 and abs(blue - 200) < 12 and green < 12


@pytest.mark.parametrize(
    ("fourcc", "suffix"), [("MJPG", ".avi"), ("mp4v", ".mov"), ("XVID", ".mkv"), ("VP80", ".webm")]
)
def test_every_container_reads(tmp_path, fourcc, suffix):
    reader = open_clip(write_video(tmp_path / f"clip{suffix}", 6, fourcc))
    assert sum(1 for _ in reader) == 6 and (reader.info.width, reader.info.height, reader.info.fps) == (64, 48, 25.0)


def test_decoding_is_a_stream(tmp_path):
    """100 frames of 1088x1920 (6 MB each) pass through with the memory of a few frames."""
    tracemalloc.start()
    try:
        count = 0
        for _, _, frame in iter_frames(EXAMPLE):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100 and frame.shape == (1920, 1088, 3)
    assert peak < 4 * frame.nbytes, f"peak {peak / 1e6:.0f} MB"


def error_line(source: Path) -> str:
    with pytest.raises(SvmacError) as caught:
        for _ in open_clip(source):
            pass
    message = str(caught.value)
    assert "\n" not in message and str(source) in message
    return message


def test_damaged_files_are_one_line_errors(tmp_path):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(EXAMPLE.read_bytes()[: EXAMPLE.stat().st_size // 2])  # cut off with its index
    assert "moov atom not found" in error_line(truncated)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert "cannot decode as a video" in error_line(garbage)
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    assert "empty file" in error_line(empty)
    no_frames = write_video(tmp_path / "no_frames.mp4", 0)
    assert "cannot decode as a video" in error_line(no_frames)
    text = tmp_path / "notes.avi"
    text.write_text("not a video")
    assert "cannot decode" in error_line(text)
    assert "no such file" in error_line(tmp_path / "missing.mkv")


def test_unknown_codec_is_named(tmp_path):
    """An AVI whose codec tag names no decoder FFmpeg has."""
    avi = write_video(tmp_path / "clip.avi", 5, "MJPG").read_bytes()
    assert avi.count(b"MJPG") >= 1
    foreign = tmp_path / "foreign.avi"
    foreign.write_bytes(avi.replace(b"MJPG", b"QZQZ"))
    assert "codec" in error_line(foreign)


def write_av1(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    """An AV1 MP4 made with PyAV's SVT-AV1 encoder (frames (H, W, 3) uint8 RGB, sides multiples of 8)."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libsvtav1", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt, stream.options = "yuv420p", {"preset": "11"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def test_av1_is_decoded_upright(tmp_path):
    """AV1 (YouTube downloads, recent phones): opencv-python's FFmpeg opens it but cannot decode it,
    PyAV's does. The frames, their times, and a phone's turn in the header, as for any other codec."""
    marked = np.full((64, 96, 3), 128, np.uint8)
    marked[:16, :16] = 255  # a white corner, top left as stored
    clip = write_av1(tmp_path / "clip.mp4", [marked] * 5)
    reader = open_clip(clip)
    frames = list(reader)
    assert reader.codec == "AV01" and len(frames) == 5 and (reader.info.width, reader.info.height) == (96, 64)
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(5) / 25.0, atol=1e-6)
    assert np.abs(frames[4].rgb.astype(int) - marked).mean() < 8  # lossy codec
    assert not reader.report.damage and not reader.report.ended_early
    phone = tmp_path / "phone.mp4"
    phone.write_bytes(with_quarter_turn(clip.read_bytes()))
    reader = open_clip(phone)
    upright = [f.rgb for f in reader]
    assert (reader.info.width, reader.info.height) == (64, 96) and upright[0].shape == (96, 64, 3)
    assert np.abs(upright[0].astype(int) - np.rot90(marked, 1)).mean() < 8


@pytest.mark.parametrize("codec", ["MJPG", "AV1"])
def test_truncated_stream_keeps_its_readable_part(tmp_path, codec):
    """A Matroska file cut mid-stream still opens: the frames before the cut are read and the
    report says the file ended early, quoting the decoder (OpenCV's FFmpeg, or PyAV's for AV1)."""
    if codec == "MJPG":
        whole = write_video(tmp_path / "whole.mkv", 12, "MJPG").read_bytes()
    else:  # noise, so that every frame takes room and half the file holds about half of them
        noise = np.random.default_rng(0).integers(0, 256, (12, 64, 96, 3), dtype=np.uint8)
        whole = write_av1(tmp_path / "whole.mkv", list(noise)).read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole[: len(whole) // 2])
    reader = open_clip(cut)
    count = sum(1 for _ in reader)
    assert 0 < count < 12 == reader.info.announced_frames
    assert reader.report.ended_early and reader.report.damage


def test_variable_frame_rate_uses_the_file_timestamps(tmp_path):
    """Rewrite the MP4 sample table: 10 frames 20 ms apart, then 10 frames 60 ms apart."""
    data = write_video(tmp_path / "cfr.mp4", 20).read_bytes()

    def two_rates(stts: bytes) -> bytes:
        count, delta = struct.unpack(">II", stts[8:16])  # one entry: 20 frames, 40 ms each
        assert count == 20
        entries = [(10, delta // 2), (10, delta * 3 // 2)]  # same total duration
        return stts[:4] + struct.pack(">I", 2) + b"".join(struct.pack(">II", *e) for e in entries)

    vfr = tmp_path / "vfr.mp4"
    vfr.write_bytes(replace_mp4_box(data, [*SAMPLE_TABLE, b"stts"], two_rates))
    reader = open_clip(vfr)
    times = [frame.time_s for frame in reader]
    expected = np.concatenate([np.arange(10) * 0.02, 0.2 + np.arange(10) * 0.06])
    np.testing.assert_allclose(times, expected, atol=1e-6)
    assert reader.report.variable_frame_rate()
    assert abs(reader.report.mean_fps(reader.info.fps) - 19 / expected[-1]) < 1e-6
    constant = open_clip(tmp_path / "cfr.mp4")
    assert sum(1 for _ in constant) == 20 and not constant.report.variable_frame_rate()


def test_phone_rotation_is_applied(tmp_path):
    """A phone stores a portrait clip as landscape frames plus a turn in its track header. Frames come
    out upright, as players show them, and the clip's width and height are the upright frame's, so the
    size check on every frame holds."""
    writer = cv2.VideoWriter(str(tmp_path / "landscape.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48))
    marked = np.zeros((48, 64, 3), np.uint8)
    marked[:16, :16] = 255  # a white corner, top left as stored
    for _ in range(5):
        writer.write(marked)
    writer.release()
    phone = tmp_path / "phone.mp4"
    phone.write_bytes(with_quarter_turn((tmp_path / "landscape.mp4").read_bytes()))
    reader = open_clip(phone)
    frames = [frame.rgb for frame in reader]
    assert len(frames) == 5 and (reader.info.width, reader.info.height) == (48, 64)
    upright = np.rot90(marked, 1)  # (64, 48, 3): the corner is now bottom left
    assert frames[0].shape == upright.shape
    assert np.abs(frames[0].astype(int) - upright).mean() < 8  # lossy codec


def test_frame_folder_is_read_in_number_order(tmp_path):
    for index in (10, 2, 1):  # frame_10 sorts before frame_2 as text; numbers decide
        cv2.imwrite(str(tmp_path / f"frame_{index}.png"), colour_frame(index)[..., ::-1])
    (tmp_path / "notes.txt").write_text("ignored")
    reader = FrameFolderReader(tmp_path, fps=10.0)
    frames = list(reader)
    assert [f.index for f in frames] == [0, 1, 2] and [f.time_s for f in frames] == [0.0, 0.1, 0.2]
    assert [int(f.rgb[0, 0, 0]) for f in frames] == [10, 20, 100]  # red encodes the file's number
    cv2.imwrite(str(tmp_path / "frame_11.png"), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(SvmacError, match="one size"):
        list(FrameFolderReader(tmp_path, fps=10.0))
    with pytest.raises(SvmacError, match="frame rate"):
        open_clip(tmp_path)


def test_writer_renames_only_a_complete_video(tmp_path):
    target = tmp_path / "out.mp4"
    with VideoWriter(target, 25.0) as writer:
        for index in range(8):
            writer.write(colour_frame(index))
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    reader = VideoFileReader(target)
    frames = list(reader)
    assert len(frames) == 8 and reader.info.fps == 25.0
    assert abs(int(np.median(frames[5].rgb[..., 0])) - 50) < 12  # red = 10 * index

    failed = tmp_path / "failed.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(failed, 25.0) as writer:
            writer.write(colour_frame(0))
            raise RuntimeError("the drawing crashed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no partial file, no temporary
