"""`facepoints filter` on real faces: pictures placed by the keypoints, videos in and out with
the right frames, tracking and smoothing measured against a clip whose truth is known."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facepoints.commands.detect import example_photo
from facepoints.errors import DataError, FacepointsError
from facepoints.filters import FILTER_NAMES, load_filter
from facepoints.filters.sticker import face_points, load_sticker
from facepoints.imageio import read_image
from facepoints.inference import Face, FaceKeypointer
from facepoints.tracking import FaceTracker, Smoothing
from facepoints.video import VideoReader, video_writer

from support import benchmark_module, cli



moving_face = benchmark_module("moving_face")


@pytest.fixture(scope="module")
def hopper(keypointer):
    image = read_image(example_photo())
    return image, keypointer(image)


@pytest.fixture(scope="module")
def labelled(shared_data):
    return moving_face.labelled_face(shared_data)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, labelled):
    folder = tmp_path_factory.mktemp("clips")
    moving = folder / "moving.mp4"
    still = folder / "still.mp4"
    return {
        "moving": (moving, moving_face.make_clip(*labelled, moving, frames=24)),
        "still": (still, moving_face.make_clip(*labelled, still, frames=24, static=True, noise=4.0)),
    }


def test_sunglasses_cover_the_eyes_and_nothing_far_away(hopper):
    image, faces = hopper
    points = face_points(faces[0].keypoints, faces[0].scheme)
    out = image.copy()
    load_filter("sunglasses")(out, faces)
    changed = np.abs(out.astype(int) - image).sum(2) > 30
    for eye in ("lefteye", "righteye"):
        x, y = points[eye].round().astype(int)
        assert changed[y - 3:y + 4, x - 3:x + 4].all(), f"{eye} not covered"
    x, y = points["mouth"].round().astype(int)
    assert not changed[y - 5:y + 6, x - 5:x + 6].any(), "the mouth was painted"
    assert not changed[:, : int(points["lefteye"][0]) - 120].any()


def test_every_built_in_filter_changes_the_face_only(hopper):
    image, faces = hopper
    x, y, w, h = faces[0].box
    for name in FILTER_NAMES:
        out = image.copy()
        load_filter(name)(out, faces)
        changed = np.argwhere(np.abs(out.astype(int) - image).sum(2) > 0)
        assert len(changed), name
        # Hats reach above the head; nothing lands below the chin or far beside the face.
        assert changed[:, 0].max() < y + 1.1 * h and x - w < changed[:, 1].min() and changed[:, 1].max() < x + 2 * w, name


def test_placement_follows_a_tilted_face_exactly():
    sticker = load_sticker(Path(__import__("facepoints").__file__).parent / "assets" / "filters" / "sunglasses.json")
    eyes = {"lefteye": np.array([100.0, 120.0]), "righteye": np.array([160.0, 90.0])}
    matrix = sticker.placement({**eyes, "eyes": (eyes["lefteye"] + eyes["righteye"]) / 2})
    placed = np.c_[sticker.eyes, np.ones(2)] @ matrix.T
    assert np.allclose(placed, [eyes["lefteye"], eyes["righteye"]])


def test_picture_is_clipped_at_the_image_border(hopper):
    image, faces = hopper
    shifted = Face(faces[0].box - [200, 60, 0, 0], faces[0].score, faces[0].scheme, faces[0].keypoints - [200, 60])
    out = image.copy()
    load_filter("hat")(out, [shifted])  # the hat sticks out past the top-left corner
    assert (out != image).any()
    far = Face(shifted.box - [5000, 0, 0, 0], shifted.score, shifted.scheme, shifted.keypoints - [5000, 0])
    out = image.copy()
    load_filter("hat")(out, [far])
    assert (out == image).all()


def test_small_or_doubtful_faces_stay_bare(hopper):
    image, faces = hopper
    face = faces[0]
    centre = face.keypoints.mean(0)
    tiny = Face(face.box / 20, face.score, face.scheme, (face.keypoints - centre) / 20 + centre)
    weak = Face(face.box, 0.2, face.scheme, face.keypoints)
    for doubtful in (tiny, weak):
        out = image.copy()
        load_filter("sunglasses")(out, [doubtful])
        assert (out == image).all()


def test_users_own_picture_with_an_anchor_file(tmp_path, hopper):
    image, faces = hopper
    Image.new("RGBA", (40, 20), (255, 0, 0, 255)).save(tmp_path / "badge.png")
    (tmp_path / "badge.json").write_text(json.dumps({"image": "badge.png", "eyes": [[0, 10], [40, 10]],
                                                      "anchor": {"point": "nose", "at": [20, 10]}}))
    out = image.copy()
    load_filter(str(tmp_path / "badge.json"))(out, faces)
    nose = face_points(faces[0].keypoints, faces[0].scheme)["nose"].round().astype(int)
    assert tuple(out[nose[1], nose[0]]) == (255, 0, 0)


@pytest.mark.parametrize("spec, problem", [
    ("not json", "not a JSON anchor file"),
    ('{"image": "badge.png"}', "anchor file needs"),
    ('{"image": "badge.png", "eyes": [[0, 0], [0, 0]]}', "must differ"),
    ('{"image": "badge.png", "eyes": [[0, 0], [9, 0]], "anchor": {"point": "ear", "at": [0, 0]}}', "unknown anchor point"),
    ('{"image": "missing.png", "eyes": [[0, 0], [9, 0]]}', "file not found"),
])
def test_broken_anchor_files_are_named(tmp_path, spec, problem):
    Image.new("RGBA", (10, 10)).save(tmp_path / "badge.png")
    (tmp_path / "badge.json").write_text(spec)
    with pytest.raises(DataError, match=problem):
        load_sticker(tmp_path / "badge.json")


def test_cli_image_and_folder_go_on_past_a_broken_file(tmp_path):
    Image.open(example_photo()).save(tmp_path / "hopper.jpg")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path.with_name(tmp_path.name + "_out")
    proc = cli("filter", "moustache", str(tmp_path), "--out", str(out), "--json", str(out / "faces.json"))
    assert proc.returncode == 1 and "broken.png" in proc.stderr and "Traceback" not in proc.stderr
    assert read_image(out / "hopper.jpg").shape == read_image(tmp_path / "hopper.jpg").shape
    entries = {Path(e["path"]).name: e for e in json.loads((out / "faces.json").read_text())["images"]}
    assert len(entries["hopper.jpg"]["faces"]) == 1 and "error" in entries["broken.png"]
    single = cli("filter", "sunglasses", str(tmp_path / "hopper.jpg"), "--out", str(tmp_path / "one.png"))
    assert single.returncode == 0 and (tmp_path / "one.png").exists()


@pytest.mark.parametrize("args, message", [
    (["hat", "--webcam", "7"], "webcam 7: cannot be opened"),
])
def test_cli_user_errors_are_one_line(tmp_path, args, message):
    proc = cli("filter", *args)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unreadable_video_is_one_line_and_leaves_no_output(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 nothing else" * 10)
    proc = cli("filter", "hat", str(tmp_path / "broken.mp4"), "--out", str(tmp_path / "out.mp4"))
    assert proc.returncode == 1 and "broken.mp4" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".mkv"])
def test_video_keeps_frames_size_and_rate(tmp_path, clips, suffix):
    clip, _ = clips["moving"]
    out = tmp_path / f"out{suffix}"
    proc = cli("filter", "sunglasses", str(clip), "--out", str(out), "--json", str(tmp_path / "frames.json"))
    assert proc.returncode == 0, proc.stderr
    with VideoReader(clip) as source, VideoReader(out) as result:
        assert (result.width, result.height) == (source.width, source.height)
        assert result.rate == source.rate
        times = [frame.time for frame in result]
    assert len(times) == 24 and np.allclose(np.diff(times), 1 / 30, atol=1e-3)
    frames = json.loads((tmp_path / "frames.json").read_text())["frames"]
    assert len(frames) == 24 and all(len(f["faces"]) == 1 and f["faces"][0]["track"] == 0 for f in frames)


@pytest.mark.parametrize("suffix", [".mkv", ".avi"])
def test_video_cut_short_is_filtered_up_to_the_cut_and_reported(tmp_path, labelled, suffix):
    """A copy that stopped mid-stream decodes up to the cut without an error from FFmpeg."""
    whole = tmp_path / f"whole{suffix}"
    moving_face.make_clip(*labelled, whole, frames=90)  # 3 s
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 5])
    proc = cli("filter", "hat", str(cut), "--out", str(tmp_path / "out.mkv"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "ended at" in line]
    assert len(warning) == 1 and f"cut{suffix}" in warning[0] and "of its 3.0 s" in warning[0], proc.stderr
    with VideoReader(tmp_path / "out.mkv") as written:
        assert 0 < sum(1 for _ in written) < 90


def test_interrupted_video_leaves_no_file(tmp_path, clips, keypointer, monkeypatch):
    from facepoints.commands.filter import filter_video

    effect = load_filter("hat")
    calls = []

    def interrupting(image, faces):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        effect(image, faces)

    interrupting.name = "hat"
    with pytest.raises(KeyboardInterrupt):
        filter_video(interrupting, keypointer, clips["moving"][0], tmp_path / "out.mp4", tmp_path / "f.json", 5, True)
    assert list(tmp_path.iterdir()) == []


def test_tracking_runs_the_detector_on_one_frame_in_five_and_stays_on_the_face(clips, keypointer):
    clip, truth = clips["moving"]
    detections = []
    detector = keypointer.detector

    class Counting:
        def __call__(self, image):
            detections.append(1)
            return detector(image)

    keypointer._detector = Counting()
    try:
        tracker = FaceTracker(keypointer, detect_every=5, smoothing=Smoothing())
        with VideoReader(clip) as reader:
            found = np.array([tracker(f.image, f.time)[0][1].keypoints for f in reader])
    finally:
        keypointer._detector = detector
    assert len(detections) == 5  # frames 0, 5, 10, 15, 20 of 24
    eye_distance = np.linalg.norm(truth[:, 36] - truth[:, 45], axis=1)
    nme = np.linalg.norm(found - truth, axis=2).mean(1) / eye_distance
    assert nme.max() < 0.08, nme


def test_smoothing_steadies_a_still_face(clips, keypointer):
    clip, truth = clips["still"]

    def jitter(smoothing):
        tracker = FaceTracker(keypointer, smoothing=smoothing)
        with VideoReader(clip) as reader:
            points = np.array([tracker(f.image, f.time)[0][1].keypoints for f in reader])
        return np.linalg.norm(np.diff(points, axis=0), axis=2).mean()

    raw, smoothed = jitter(None), jitter(Smoothing())
    assert smoothed < raw / 2, (raw, smoothed)


def test_webcam_recording_stops_cleanly(tmp_path, clips, monkeypatch):
    """A camera that ends (like a user pressing Ctrl-C) still leaves a complete recording."""
    import cv2

    from facepoints.commands import filter as command

    clip, _ = clips["moving"]
    real_capture = cv2.VideoCapture
    monkeypatch.setattr(cv2, "VideoCapture", lambda index: real_capture(str(clip)))
    command._webcam(load_filter("keypoints"), FaceKeypointer(threads=2), 0, tmp_path / "cam.mp4",
                    tmp_path / "cam.json", 5, True)
    with VideoReader(tmp_path / "cam.mp4") as result:
        assert sum(1 for _ in result) == 24
    assert len(json.loads((tmp_path / "cam.json").read_text())["frames"]) == 24


def test_writer_refuses_unknown_video_types(tmp_path):
    with pytest.raises(FacepointsError, match="unknown video type"):
        with video_writer(tmp_path / "x.gifv", 64, 64, Fraction(30)):
            pass


def test_video_without_frames_is_one_line(tmp_path):
    with video_writer(tmp_path / "empty.mkv", 64, 64, Fraction(30)):
        pass  # no frame written: FFmpeg cannot even find the stream's format, so it cannot be opened
    proc = cli("filter", "hat", str(tmp_path / "empty.mkv"), "--out", str(tmp_path / "out.mp4"))
    assert proc.returncode == 1 and "empty.mkv: not a readable video" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr and not (tmp_path / "out.mp4").exists()


def test_outputs_never_overwrite_inputs_and_dot_is_a_folder(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.open(example_photo()).save(photos / "hopper.jpg")
    for args, message in ([str(photos / "hopper.jpg"), "--out", str(photos / "hopper.jpg")], "would replace the input"), \
                         ([str(photos), "--out", str(photos / "hats")], "must not be the input folder or inside it"):
        proc = cli("filter", "hat", *args)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in photos.iterdir()) == ["hopper.jpg"]
    dot = subprocess.run([sys.executable, "-m", "facepoints.cli", "filter", "hat", "."], cwd=photos,
                         capture_output=True, text=True)
    assert dot.returncode == 0, dot.stderr
    assert (tmp_path / "photos_hat" / "hopper.jpg").is_file()


def test_an_unwritable_output_is_reported_and_the_batch_goes_on(tmp_path):
    Image.open(example_photo()).save(tmp_path / "a.jpg")
    Image.open(example_photo()).save(tmp_path / "b.jpg")
    out = tmp_path.with_name(tmp_path.name + "_out")
    (out / "a.jpg").mkdir(parents=True)  # a folder where the first picture should go
    proc = cli("filter", "hat", str(tmp_path), "--out", str(out))
    assert proc.returncode == 1 and "a.jpg: cannot be written" in proc.stderr and "Traceback" not in proc.stderr
    assert (out / "b.jpg").is_file()


def test_odd_sized_video_keeps_its_size(tmp_path, labelled):
    clip = tmp_path / "odd.mp4"
    moving_face.make_clip(*labelled, clip, frames=6, size=(321, 241))
    for suffix in (".mp4", ".avi"):
        proc = cli("filter", "sunglasses", str(clip), "--out", str(tmp_path / f"out{suffix}"))
        assert proc.returncode == 0, proc.stderr
        with VideoReader(tmp_path / f"out{suffix}") as result:
            assert (result.width, result.height) == (321, 241) and sum(1 for _ in result) == 6


def _with_sound(clip: Path, out: Path) -> int:
    """``clip`` again with a 440 Hz AAC tone as long as it; returns the tone's packet count."""
    import av

    with av.open(str(clip)) as source, av.open(str(out), "w") as target:
        video = target.add_stream_from_template(source.streams.video[0])
        sound = target.add_stream("aac", rate=44100)
        sound.layout = "mono"
        seconds = 0.0
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                seconds = max(seconds, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                packet.stream = video
                target.mux(packet)
        samples = int(44100 * seconds)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)[None]
        count = 0
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(tone[:, start:start + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, start
            for packet in [*sound.encode(frame)]:
                target.mux(packet)
                count += 1
        for packet in sound.encode():
            target.mux(packet)
            count += 1
    return count


def test_the_sound_track_is_copied_where_the_container_can_hold_it(tmp_path, clips):
    import av

    packets = _with_sound(clips["moving"][0], tmp_path / "talk.mp4")
    for suffix in (".mp4", ".mkv"):
        proc = cli("filter", "moustache", str(tmp_path / "talk.mp4"), "--out", str(tmp_path / f"out{suffix}"))
        assert proc.returncode == 0, proc.stderr
        with av.open(str(tmp_path / f"out{suffix}")) as result:
            assert sum(1 for p in result.demux(result.streams.audio[0]) if p.dts is not None) == packets
    proc = cli("filter", "moustache", str(tmp_path / "talk.mp4"), "--out", str(tmp_path / "out.webm"))
    assert proc.returncode == 0 and ".webm cannot hold the sound (aac)" in proc.stderr


def test_phone_video_stored_on_its_side_is_filtered_upright(tmp_path, labelled):
    """A portrait phone video is stored turned a quarter and flagged to be shown turned back: its
    faces are found upright, and the output is the upright picture players show."""
    import av

    upright_clip = tmp_path / "upright.mp4"
    truth = moving_face.make_clip(*labelled, upright_clip, frames=8, size=(320, 240), static=True)
    with VideoReader(upright_clip) as reader:
        upright = [frame.image for frame in reader]
    phone = tmp_path / "phone.mp4"
    with av.open(str(phone), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 240, 320, "yuv420p"
        stream.set_display_rotation(-90)  # shown turned a quarter clockwise, as phones flag it
        for image in upright:
            stored = np.ascontiguousarray(np.rot90(image, 1))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        container.mux(stream.encode())

    with VideoReader(phone) as reader:
        assert (reader.width, reader.height) == (320, 240)
        shown = [frame.image for frame in reader]
    assert np.abs(np.stack(shown).astype(float) - np.stack(upright)).mean() < 4

    proc = cli("filter", "keypoints", str(phone), "--out", str(tmp_path / "out.mp4"), "--json", str(tmp_path / "f.json"))
    assert proc.returncode == 0, proc.stderr
    frames = json.loads((tmp_path / "f.json").read_text())
    assert (frames["width"], frames["height"]) == (320, 240)
    eye_distance = np.linalg.norm(truth[0, 45] - truth[0, 36])
    for faces, true_points in zip((f["faces"] for f in frames["frames"]), truth):
        assert len(faces) == 1
        nme = np.linalg.norm(np.array(faces[0]["keypoints"]) - true_points, axis=1).mean() / eye_distance
        assert nme < 0.08, nme
    with VideoReader(tmp_path / "out.mp4") as result:
        assert (result.width, result.height, result.quarter_turns) == (320, 240, 0)


def test_a_hard_cut_is_detected_at_once(shared_data, keypointer):
    """Three frames of one person, then a cut to another elsewhere in the picture, between the
    detector's frames: the first frame after the cut has the new face's points, on a new track."""
    from facepoints.data.landmarks import read_landmark_csv

    samples, _ = read_landmark_csv(shared_data / "faces68" / "keypoints.csv")
    first = samples[0]
    second = next(s for s in samples if s.group != first.group)

    def shot(sample, at):
        face, frame = read_image(sample.image), np.full((480, 640, 3), 90, np.uint8)
        frame[at[1]:at[1] + face.shape[0], at[0]:at[0] + face.shape[1]] = face
        return frame, sample.points + np.array(at, np.float32)

    (before, _), (after, truth) = shot(first, (60, 40)), shot(second, (360, 160))
    tracker = FaceTracker(keypointer, detect_every=5)
    found = [tracker(frame, i / 30) for i, frame in enumerate([before, before, before, after])]
    assert [track for track, _ in found[2]] == [0]
    (track, face), = found[3]
    eye_distance = np.linalg.norm(truth[36:42].mean(0) - truth[42:48].mean(0))
    assert track == 1 and np.linalg.norm(face.keypoints - truth, axis=1).mean() / eye_distance < 0.1


def test_drawing_into_a_frame_after_tracking_it_is_no_cut(shared_data, keypointer):
    """`filter` draws its picture into the frame the tracker just saw: the next frame must still be
    compared with the clean one, so a still face keeps its track (no cut, no re-detection)."""
    from facepoints.data.landmarks import read_landmark_csv

    samples, _ = read_landmark_csv(shared_data / "faces68" / "keypoints.csv")
    face, still = read_image(samples[0].image), np.full((480, 640, 3), 90, np.uint8)
    still[40:40 + face.shape[0], 60:60 + face.shape[1]] = face
    tracker = FaceTracker(keypointer, detect_every=100)
    for index in range(4):
        frame = still.copy()  # a new array each frame, as a video reader gives
        (track, found), = tracker(frame, index / 30)
        assert track == 0, f"frame {index}: a new track"
        (x0, y0), (x1, y1) = found.keypoints.min(0).astype(int), found.keypoints.max(0).astype(int)
        frame[y0:y1, x0:x1] = 0  # a filter paints over the whole face
