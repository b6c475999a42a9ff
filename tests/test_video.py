"""svmac-demo on video, end to end on the bundled real clip (pose2sim cam01, people walking):
people found and kept on one id, smoothed, schema-valid JSON, NPZ consistent with it, an
annotated video with the skeletons drawn, and bad inputs in a mixed folder each failing alone."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe")
cv2 = pytest.importorskip("cv2")
jsonschema = pytest.importorskip("jsonschema")

from app.demo import EXAMPLE_CLIP, SUMMARY_NAME, main  # noqa: E402
from app.output import SCHEMA_PATH  # noqa: E402
from app.smoothing import DEFAULT_CUTOFF_HZ  # noqa: E402
from app.track_labels import TORSO, score_ids  # noqa: E402
from detector_adapters.keypoint_mapping import MAPPINGS, map_keypoints  # noqa: E402
from test_video_io import SAMPLE_TABLE, replace_mp4_box  # noqa: E402

SCHEMA = json.loads(SCHEMA_PATH.read_text())
FIRST, COUNT = 40, 30  # frames 40-69 of the clip: the man lunges and swings his arms (the hard part)
# Hand-labelled torso centres of everyone in full view (benchmarks/labels/pose2sim_cam01_people.json).
LABELS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "labels"
LABELS = json.loads((LABELS_DIR / "pose2sim_cam01_people.json").read_text())
# The two people in front and the small woman at the back (the video detector's finer search finds her).
PEOPLE = LABELS["people"]
MATCH_RADIUS_PX = 200  # their torsos are >= 360 px apart in every frame


def write_slice(path: Path, first: int, count: int, scale: float = 1.0, source: Path = EXAMPLE_CLIP) -> Path:
    """Frames first..first+count-1 of a pose2sim clip (the bundled one), re-encoded (mp4v) at its 60 fps."""
    capture = cv2.VideoCapture(str(source))
    capture.set(cv2.CAP_PROP_POS_FRAMES, first)
    writer = None
    for _ in range(count):
        ok, frame = capture.read()
        assert ok
        if scale != 1.0:
            frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        if writer is None:
            size = (frame.shape[1], frame.shape[0])
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 60.0, size)
        writer.write(frame)
    writer.release()
    capture.release()
    return path


@pytest.fixture(scope="module")
def clip_run(tmp_path_factory):
    """One run of the CLI on the 30-frame slice with every output; shared by the tests below."""
    root = tmp_path_factory.mktemp("clip")
    video = write_slice(root / "walk.mp4", FIRST, COUNT)
    out = root / "out"
    assert main([str(video), "--out-dir", str(out), "--quiet"]) == 0
    record = json.loads((out / "walk.json").read_text())
    return video, out, record


def test_every_person_keeps_one_id(clip_run):
    """Each person in full view is found and keeps one id through >= 90 % of the frames, with at most
    one id switch, and they get different ids."""
    _, _, record = clip_run
    people = {**LABELS, "people": PEOPLE}
    scores = score_ids(record, people, MATCH_RADIUS_PX, first_frame=FIRST)
    for name, score in scores.items():
        assert score.main_share >= 0.9 and score.switches <= 1, f"{name}: ids per frame {score.ids}"
    assert len({score.main_id for score in scores.values()}) == len(PEOPLE)


def clip_record(clip) -> dict:
    """An app.clip.Clip as its JSON's frames (person_record per person), for score_ids."""
    from app.output import person_record

    return {"frames": [{"index": index, "people": [person_record(clip.tracks[column], row) for column, row in rows]}
                       for index, rows in enumerate(clip.rows_by_frame())]}  # fmt: skip


def records_on_and_off(data_dir: Path, tmp_path: Path, camera: str, first: int, count: int, option: str) -> dict:
    """Frames first..first+count-1 of a pose2sim view lifted with the default detector, with VideoOptions'
    `option` on and off. -> {True: clip_record, False: clip_record}; skips when the view is missing."""
    from app.pipeline import Lifter
    from app.video import VideoOptions, lift_clip
    from detector_adapters.mediapipe_adapter import MediaPipeDetector

    source = data_dir / "video" / "pose2sim_multiperson" / f"{camera}.mp4"
    if not source.is_file():
        pytest.skip(f"{source} is missing")
    video = write_slice(tmp_path / f"{camera}.mp4", first, count, source=source)
    detector, lifter, records = MediaPipeDetector(), Lifter(), {}
    for on in (True, False):
        result = lift_clip(video, video.name, detector, lifter, VideoOptions(**{option: on}), lambda _: None)
        records[on] = clip_record(result.clip)
    return records


def test_a_person_merged_with_another_is_followed_by_flow(data_dir, tmp_path):
    """pose2sim cam03, frames 30-79: from frame ~41 the man leans over the woman, and from ~55 the landmark
    model gives his region her skeleton. Followed by optical flow through it (app.flow_follow), he keeps his
    id with his torso within 80 px of its hand label (labelled to about 40 px) on nearly every frame; without
    flow on far fewer. The woman keeps her id either way. benchmarks/video_tracking.py scores the four whole
    clips against the 90 % target."""
    first = 30
    records = records_on_and_off(data_dir, tmp_path, "cam03", first, 50, "flow_follow")
    labels = json.loads((LABELS_DIR / "pose2sim_cam03_people.json").read_text())
    man = {}
    for flow, record in records.items():
        woman = score_ids(record, labels, MATCH_RADIUS_PX, first_frame=first)["woman in grey"]
        assert woman.main_share >= 0.9 and woman.switches <= 1, f"woman: ids per frame {woman.ids}"
        man[flow] = score_ids(record, labels, 80, first_frame=first)["man walking on the walkway"]
        assert man[flow].main_id != woman.main_id
        if flow:  # frames where flow, not the detector, found him have no person score: null, never NaN
            scores = [p["score"] for frame in record["frames"] for p in frame["people"] if p["id"] == man[flow].main_id]
            assert None in scores and json.loads(json.dumps(record, allow_nan=False)) == record
    assert man[True].main_share >= 0.9 and man[True].switches == 0, f"man with flow: {man[True].ids}"
    assert man[False].main_share <= 0.8, f"man without flow: {man[False].ids}"


def test_a_small_person_found_late_is_followed_back(data_dir, tmp_path):
    """pose2sim cam02, frames 0-29: the person detector scores the small woman standing at the back too
    low on frame 0 and finds her on frame 10's search (a second fine search, as frame 0's found people
    new). Followed back through the frames before it, she is on one id from the clip's start; without
    looking back only from frame 10 on."""
    records = records_on_and_off(data_dir, tmp_path, "cam02", 0, 30, "look_back")
    labels = json.loads((LABELS_DIR / "pose2sim_cam02_people.json").read_text())
    shares = {}
    for look_back, record in records.items():
        score = score_ids(record, labels, MATCH_RADIUS_PX)["woman standing in the background, right"]
        shares[look_back] = (score.main_share, score.switches)
    assert shares[True][0] >= 0.9 and shares[True][1] == 0, shares
    assert 0.5 <= shares[False][0] <= 0.7, shares


def test_clip_json_is_valid_and_complete(clip_run):
    _, _, record = clip_run
    jsonschema.validate(record, SCHEMA)
    assert record["kind"] == "clip" and record["status"] == "ok"
    video = record["video"]
    assert (video["width"], video["height"], video["num_frames"], video["fps"]) == (1088, 1920, COUNT, 60.0)
    assert not video["variable_frame_rate"] and video["notes"] == []
    assert [f["index"] for f in record["frames"]] == list(range(COUNT))
    np.testing.assert_allclose([f["time_s"] for f in record["frames"]], np.arange(COUNT) / 60.0, atol=1e-6)
    frames_per_id = {}
    for frame in record["frames"]:
        ids = [p["id"] for p in frame["people"]]
        assert len(ids) == len(set(ids))  # one person per id per frame
        for person in frame["people"]:
            frames_per_id.setdefault(person["id"], []).append(frame["index"])
            pose = np.array(person["pose_3d"])
            np.testing.assert_allclose(pose[0], 0, atol=1e-4)  # root-relative
            assert person["detector_keypoints"]["format"] == "mediapipe33" and 0 <= person["score"] <= 1
    tracks = {t["id"]: t for t in record["tracks"]}
    assert set(tracks) == set(frames_per_id)
    for track_id, frames in frames_per_id.items():
        assert (tracks[track_id]["frames"], tracks[track_id]["first_frame"], tracks[track_id]["last_frame"]) == (
            len(frames), frames[0], frames[-1])  # fmt: skip
    expected = {"enabled": True, "causal": False, "cutoff_hz": DEFAULT_CUTOFF_HZ, "min_score": 0.5}
    assert record["processing"]["smoothing"] == expected


def test_csv_has_a_row_per_frame_and_person(clip_run):
    _, out, record = clip_run
    with open(out / "walk.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = [(f["index"], p["id"]) for f in record["frames"] for p in f["people"]]
    assert sorted((int(r["frame"]), int(r["track_id"])) for r in rows) == sorted(expected)
    first = record["frames"][0]["people"][0]
    row = next(r for r in rows if int(r["frame"]) == 0 and int(r["track_id"]) == first["id"])
    np.testing.assert_allclose(float(row["RWrist_z"]), first["pose_3d_mm"][16][2], atol=0.11)


def test_npz_matches_the_json(clip_run):
    _, out, record = clip_run
    with np.load(out / "walk.npz") as saved:
        arrays = {name: saved[name] for name in saved.files}
    track_ids = arrays["track_ids"].tolist()
    tracks = len(track_ids)
    assert track_ids == [t["id"] for t in record["tracks"]]
    shapes = {"keypoints_2d": (17, 2), "scores": (17,), "pose_3d": (17, 3), "pose_3d_mm": (17, 3),
              "camera": (2, 3), "bbox": (4,), "imputed": (17,)}  # fmt: skip
    for name, shape in shapes.items():
        assert arrays[name].shape == (COUNT, tracks, *shape), name
    np.testing.assert_allclose(arrays["time_s"], np.arange(COUNT) / 60.0)
    for frame in record["frames"]:
        present = {p["id"]: p for p in frame["people"]}
        for column, track_id in enumerate(track_ids):
            here = arrays["present"][frame["index"], column]
            assert here == (track_id in present)
            pose = arrays["pose_3d_mm"][frame["index"], column]
            if here:
                np.testing.assert_allclose(pose, present[track_id]["pose_3d_mm"], atol=0.06)
                np.testing.assert_allclose(arrays["keypoints_2d"][frame["index"], column],
                                           present[track_id]["keypoints_2d"], atol=0.006)  # fmt: skip
            else:
                assert np.isnan(pose).all() and np.isnan(arrays["keypoints_2d"][frame["index"], column]).all()
    # One scale per track: every bone keeps its length through the clip (to float32 rounding).
    column = int(np.argmax(arrays["present"].sum(0)))
    poses = arrays["pose_3d_mm"][arrays["present"][:, column], column]  # (F, 17, 3)
    total_bone_length = sum(np.linalg.norm(poses[:, c] - poses[:, p], axis=-1) for p, c in [(0, 1), (1, 2), (2, 3)])
    assert np.ptp(total_bone_length) < 0.3 * total_bone_length.mean()  # the leg, not rescaled per frame


def test_2d_is_smoothed_before_lifting(clip_run):
    """The lifted 2D of each long track shakes much less than the detector's own joints."""
    _, _, record = clip_run
    by_id = {}
    for frame in record["frames"]:
        for person in frame["people"]:
            detector = person["detector_keypoints"]
            raw_points = np.array([xy if xy is not None else [np.nan, np.nan] for xy in detector["keypoints"]])
            raw, _ = map_keypoints(MAPPINGS["mediapipe33"], raw_points, np.array(detector["scores"]))
            by_id.setdefault(person["id"], []).append((np.array(person["keypoints_2d"]), raw))
    checked = 0
    for rows in by_id.values():
        if len(rows) < 20:
            continue
        smooth, raw = (np.stack(part) for part in zip(*rows))  # (F, 17, 2)
        acceleration = [np.nanmean(np.linalg.norm(np.diff(a, 2, axis=0), axis=-1)) for a in (smooth, raw)]
        assert acceleration[0] < 0.5 * acceleration[1]
        checked += 1
    assert checked >= 2


def test_annotated_video_shows_the_skeletons(clip_run):
    video, out, record = clip_run
    annotated = cv2.VideoCapture(str(out / "walk_svmac.mp4"))
    assert annotated.get(cv2.CAP_PROP_FPS) == 60.0 and annotated.get(cv2.CAP_PROP_FRAME_COUNT) == COUNT
    source = cv2.VideoCapture(str(video))
    index = 15
    for _ in range(index + 1):
        ok, drawn = annotated.read()
        ok2, plain = source.read()
        assert ok and ok2
    assert drawn.shape[0] == 1920 and drawn.shape[1] > 1088  # the frame, then the 3D panel beside it
    left = drawn[:, :1088].astype(int)
    difference = np.abs(left - plain.astype(int)).sum(-1)  # (1920, 1088)
    on_joints, checked = 0, 0
    for person in record["frames"][index]["people"]:
        for (x, y), score in zip(person["keypoints_2d"], person["scores"]):
            if score > 0.5 and 3 <= x < 1085 and 3 <= y < 1917:
                checked += 1
                on_joints += difference[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3].max() > 60
    assert checked >= 15 and on_joints >= 0.9 * checked
    assert np.median(difference[:150, 700:1000]) < 15  # the ceiling, away from everyone: untouched


def make_mixed_folder(root: Path, packaged_photo: Path) -> None:
    write_slice(root / "short.mp4", 0, 4, scale=0.5)
    shutil.copy(packaged_photo, root / "portrait.jpg")
    whole = EXAMPLE_CLIP.read_bytes()
    (root / "truncated.mp4").write_bytes(whole[: len(whole) // 3])
    (root / "garbage.MOV").write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    zero = cv2.VideoWriter(str(root / "zero_frames.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    zero.release()
    mjpg = root / "mjpg.avi"
    writer = cv2.VideoWriter(str(mjpg), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    (root / "foreign_codec.avi").write_bytes(mjpg.read_bytes().replace(b"MJPG", b"QZQZ"))
    mjpg.unlink()


def test_mixed_folder_bad_videos_fail_alone(packaged_photo, tmp_path, capsys):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    make_mixed_folder(folder, packaged_photo)
    assert main([str(folder), "--out-dir", str(out)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    bad = {"truncated.mp4", "garbage.MOV", "zero_frames.mp4", "foreign_codec.avi"}
    assert {line.split(":")[1].strip() for line in errors} == bad
    reasons = {line.split(":")[1].strip(): line for line in errors}
    assert "moov atom not found" in reasons["truncated.mp4"] and "codec" in reasons["foreign_codec.avi"]
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert set(summary["failed"]) == bad and summary["processed"] == 1 and list(summary["clips"]) == ["short.mp4"]
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(["portrait.jpg.json", "portrait.jpg.png", "short.json", "short.npz", "short.csv",
                              "short_svmac.mp4", SUMMARY_NAME])  # fmt: skip
    for name in ("portrait.jpg.json", "short.json"):
        jsonschema.validate(json.loads((out / name).read_text()), SCHEMA)
    assert json.loads((out / "short.json").read_text())["video"]["num_frames"] == 4
    # A re-run skips what is done (the photo and the clip) and tries the bad ones again.
    stamp = (out / "short.json").stat().st_mtime_ns
    assert main([str(folder), "--out-dir", str(out), "--quiet"]) == 1
    assert json.loads((out / SUMMARY_NAME).read_text())["skipped_already_done"] == 2
    assert (out / "short.json").stat().st_mtime_ns == stamp


def test_existing_clip_outputs_are_kept_unless_asked(tmp_path, capsys):
    result = tmp_path / "clip.json"
    result.write_text("precious")
    argv = ["--example", "--max-frames", "2", "--json", str(result), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err and result.read_text() == "precious"
    assert main([*argv, "--overwrite"]) == 0
    assert len(json.loads(result.read_text())["frames"]) == 2


def test_4k_frames_are_lifted_in_their_pixels_and_drawn_smaller(tmp_path, capsys):
    """A 2176x3840 clip (the real one upscaled 2x): people found at twice the coordinates of the
    original frame; the annotated video is drawn at 1920 pixels tall."""
    big = write_slice(tmp_path / "big.mp4", 0, 2, scale=2.0)
    small = write_slice(tmp_path / "small.mp4", 0, 2)
    assert main([str(big), "--out-dir", str(tmp_path / "big_out"), "--quiet"]) == 0
    assert main([str(small), "--out-dir", str(tmp_path / "small_out"), "--quiet", "--no-figure"]) == 0
    records = [json.loads((tmp_path / f"{n}_out" / f"{n}.json").read_text()) for n in ("big", "small")]
    assert records[0]["video"]["width"] == 2176 and records[0]["video"]["height"] == 3840
    big_people, small_people = (sorted(r["frames"][0]["people"], key=lambda p: p["bbox"][0]) for r in records)
    assert len(big_people) == len(small_people) >= 2
    for big_person, small_person in zip(big_people, small_people):
        torso_big = np.array(big_person["keypoints_2d"])[TORSO].mean(0)
        torso_small = np.array(small_person["keypoints_2d"])[TORSO].mean(0)
        assert np.linalg.norm(torso_big - 2 * torso_small) < 40  # 1 % of the frame's height
    annotated = cv2.VideoCapture(str(tmp_path / "big_out" / "big_svmac.mp4"))
    assert annotated.get(cv2.CAP_PROP_FRAME_HEIGHT) == 1920 and annotated.get(cv2.CAP_PROP_FRAME_COUNT) == 2


def test_variable_frame_rate_and_frame_folder(tmp_path, capsys):
    """A clip whose frames come 1/120 s then 1/40 s apart keeps those times in its JSON and says so;
    the same frames as numbered images with --frames give one person per id as well."""
    data = write_slice(tmp_path / "cfr.mp4", 0, 8, scale=0.5).read_bytes()

    def two_rates(stts: bytes) -> bytes:
        count, delta = np.frombuffer(stts[8:16], ">u4")
        entries = np.array([[4, delta // 2], [4, delta * 3 // 2]], ">u4")
        return stts[:4] + np.array([2], ">u4").tobytes() + entries.tobytes()

    vfr = tmp_path / "vfr.mp4"
    vfr.write_bytes(replace_mp4_box(data, [*SAMPLE_TABLE, b"stts"], two_rates))
    assert main([str(vfr), "--out-dir", str(tmp_path / "out"), "--no-figure"]) == 0
    assert "variable frame rate" in capsys.readouterr().out
    record = json.loads((tmp_path / "out" / "vfr.json").read_text())
    jsonschema.validate(record, SCHEMA)
    assert record["video"]["variable_frame_rate"] and "variable frame rate" in record["video"]["notes"][0]
    expected = np.concatenate([np.arange(4) / 120, 4 / 120 + np.arange(4) / 40])
    np.testing.assert_allclose([f["time_s"] for f in record["frames"]], expected, atol=1e-5)

    frames = tmp_path / "frames"
    frames.mkdir()
    capture = cv2.VideoCapture(str(tmp_path / "cfr.mp4"))
    for index in range(8):
        ok, frame = capture.read()
        cv2.imwrite(str(frames / f"img{index + 1}.png"), frame)  # img10 would sort before img2 as text
    argv = ["--frames", str(frames), "--fps", "60", "--causal", "--quiet", "--json"]
    assert main([*argv, str(tmp_path / "f.json")]) == 0
    from_frames = json.loads((tmp_path / "f.json").read_text())
    jsonschema.validate(from_frames, SCHEMA)
    assert from_frames["video"]["fps"] == 60.0 and len(from_frames["frames"]) == 8
    assert {t["frames"] for t in from_frames["tracks"] if t["frames"] > 1} == {8}
    assert from_frames["processing"]["smoothing"]["causal"]
    # Causal smoothing: a frame's joints depend on earlier frames only, so the first 4 frames come out
    # the same when the clip stops after them.
    assert main([*argv, str(tmp_path / "f4.json"), "--max-frames", "4"]) == 0
    first_four = json.loads((tmp_path / "f4.json").read_text())["frames"]
    assert len(first_four) == 4
    for short, full in zip(first_four, from_frames["frames"]):
        assert [p["id"] for p in short["people"]] == [p["id"] for p in full["people"]]
        for a, b in zip(short["people"], full["people"]):
            np.testing.assert_allclose(a["keypoints_2d"], b["keypoints_2d"], atol=0.011)


def test_between_full_detections_people_are_followed_in_their_boxes(tmp_path):
    """With redetect_every=5 the person detector runs on frames 0 and 5 only (unless someone is lost),
    the landmark model in the tracked boxes on the others, and both people stay on their ids."""
    from app.pipeline import Lifter
    from app.video import VideoOptions, lift_clip
    from detector_adapters.mediapipe_adapter import MediaPipeDetector

    detector, calls = MediaPipeDetector(), []

    class Counting:
        name, keypoint_format = detector.name, detector.keypoint_format

        def detect(self, image):
            calls.append("detect")
            return detector.detect(image)

        def detect_in_boxes(self, image, boxes):
            calls.append("detect_in_boxes")
            return detector.detect_in_boxes(image, boxes)

    video = write_slice(tmp_path / "slice.mp4", 0, 10, scale=0.5)
    result = lift_clip(video, "slice.mp4", Counting(), Lifter(), VideoOptions(redetect_every=5), lambda _: None)
    # Frame 0 looks everywhere; frames 1-4 and 6-9 in the boxes (8 calls; more detections if someone was lost).
    assert calls[0] == "detect" and calls.count("detect_in_boxes") == 8 and calls.count("detect") >= 2
    assert sorted(len(track.frames) for track in result.clip.tracks)[-2:] == [10, 10]


def test_tracks_shorter_than_the_minimum_are_dropped_as_blips(capsys):
    from app.video import TrackRows, without_blips

    def rows(count: int) -> TrackRows:
        return TrackRows(frames=list(range(count)))

    tracks = {0: rows(100), 1: rows(1), 2: rows(5), 3: rows(6)}
    # 0.1 s at 60 fps: 6 frames needed; the blips of 1 and 5 frames go.
    assert sorted(without_blips(tracks, 60.0, 100, 0.1)) == [0, 3]
    assert sorted(without_blips(tracks, 60.0, 100, 0.0)) == [0, 1, 2, 3]
    # A clip of 4 frames never asks for more than half of it.
    assert sorted(without_blips({0: rows(2), 1: rows(1)}, 60.0, 4, 0.1)) == [0]
    assert main([str(EXAMPLE_CLIP), "--min-track-seconds", "-1", "--out", "x.png"]) == 2
    assert "--min-track-seconds" in capsys.readouterr().err


def test_a_person_lost_over_someone_seen_is_searched_for_on_the_next_frames():
    """Between full detections, someone lost where another person is seen (hidden, or merged into them)
    makes the next frame a full detection; of it only the people followed and those where the lost one
    was are kept (a newcomer elsewhere waits for the regular detection), and the lost one gets back
    their id. Without search_hidden the frame stays a look inside the boxes."""
    from app.tracking import Tracker
    from app.video import VideoOptions, detect_people
    from app.video_io import Frame
    from detector_adapters.base import DetectedPerson
    from detector_adapters.keypoint_mapping import to_h36m17

    def person(x0: float) -> DetectedPerson:
        keypoints = np.tile([x0 + 50.0, 300.0], (33, 1)) + np.linspace(-50, 50, 66).reshape(33, 2)  # (33, 2)
        return DetectedPerson(keypoints, np.ones(33), np.array([x0, 200.0, x0 + 100, 400.0]), "mediapipe33")

    front, behind, newcomer = person(100), person(140), person(600)  # behind: 60 % under front

    class Scripted:
        """Both people on the first full detection and the next two frames; then the landmark model sees
        only the front person."""

        def __init__(self):
            self.calls, self.full, self.in_boxes = [], [[front, behind], [front, behind, newcomer]], 0

        def detect(self, image):
            self.calls.append("detect")
            return self.full.pop(0)

        def detect_in_boxes(self, image, boxes):
            self.calls.append("detect_in_boxes")
            self.in_boxes += 1
            return [front, behind] if self.in_boxes <= 2 else [front] + [None] * (len(boxes) - 1)

    def run(options: VideoOptions) -> tuple[list, list]:
        detector, tracker, ids = Scripted(), Tracker(fps=30.0), []
        for index in range(5):
            people = detect_people(detector, Frame(index, index / 30, np.zeros((8, 8, 3), np.uint8)), tracker, options)
            boxes = np.stack([p.bbox for p in people])  # (N, 4)
            keypoints = np.stack([to_h36m17(p)[0] for p in people])  # (N, 17, 2)
            ids.append(tracker.update(boxes, keypoints, np.ones((len(people), 17))))
        return detector.calls, ids

    calls, ids = run(VideoOptions(redetect_every=10))
    assert calls == ["detect"] + ["detect_in_boxes"] * 3 + ["detect"]
    assert ids == [[0, 1]] * 3 + [[0], [0, 1]]  # the newcomer of frame 4 left to the next regular detection
    calls, ids = run(VideoOptions(redetect_every=10, search_hidden=False))
    assert calls == ["detect"] + ["detect_in_boxes"] * 4 and ids == [[0, 1]] * 3 + [[0], [0]]
