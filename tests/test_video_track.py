"""facepoints.video.track: the frames of a video with each face's track id, the same faces as
`facepoints filter` follows; and filter's video JSON carries pose, openness and blinks."""

import json
import subprocess
import sys

import numpy as np
import pytest

from facepoints.inference import FaceKeypointer
from facepoints.tracking import FaceTracker, Smoothing
from facepoints.video import VideoReader, track

from support import benchmark_module

moving_face = benchmark_module("moving_face")


@pytest.fixture(scope="module")
def clip(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("track") / "moving.mp4"
    return path, moving_face.make_clip(*moving_face.labelled_face(shared_data), path, frames=12)


def test_track_yields_every_frame_with_one_followed_face_as_filter_follows_it(clip):
    path, truth = clip
    tracked = [(frame.index, faces) for frame, faces in track(path, model="ibug68-fast")]
    assert [i for i, _ in tracked] == list(range(12))
    assert all(len(faces) == 1 and faces[0][0] == 0 for _, faces in tracked)
    found = np.array([faces[0][1].keypoints for _, faces in tracked])
    nme = np.linalg.norm(found - truth, axis=2).mean(1) / np.linalg.norm(truth[:, 36] - truth[:, 45], axis=1)
    assert nme.max() < 0.08
    tracker = FaceTracker(FaceKeypointer("ibug68-fast"), 5, Smoothing(), 30.0)
    with VideoReader(path) as reader:
        same = np.array([tracker(f.image, f.time)[0][1].keypoints for f in reader])
    assert np.array_equal(found, same)
    assert tracked[0][1][0][1].pose is not None and tracked[0][1][0][1].openness.eyes > 0.15


def test_filter_video_json_has_pose_openness_and_blinks(tmp_path, clip):
    out = tmp_path / "out.mp4"
    result = subprocess.run([sys.executable, "-m", "facepoints.cli", "filter", "keypoints", str(clip[0]), "--out",
                             str(out), "--json", str(tmp_path / "frames.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "frames.json").read_text())
    face = document["frames"][0]["faces"][0]
    assert set(face["pose"]) == {"yaw", "pitch", "roll"} and face["openness"]["left_eye"] > 0.15
    assert len(face["confidence"]) == len(face["keypoints"]) == 68
    assert document["blinks"] == []  # the clip's face never closes its eyes


def test_followed_faces_have_the_confidence_of_their_frames_crop(clip):
    path, _ = clip
    frames = list(track(path, model="ibug68-fast"))
    confidence = [faces[0][1].confidence for _, faces in frames]
    assert all(c is not None and c.shape == (68,) and 0 <= c.min() and c.max() <= 1 for c in confidence)
    assert len({round(float(c.mean()), 6) for c in confidence}) > 1  # followed frames get their own, not the first's
    first = FaceKeypointer("ibug68-fast")(frames[0][0].image)[0]
    assert np.array_equal(confidence[0], first.confidence)
    assert all(faces[0][1].confidence is None for _, faces in track(path, model="ibug68-fast", flip_test=False))


def test_min_confidence_leaves_out_followed_faces_points_in_video(tmp_path, clip):
    changed = {}
    for minimum in ("0", "1"):
        out = tmp_path / f"min{minimum}.mp4"
        result = subprocess.run([sys.executable, "-m", "facepoints.cli", "filter", "keypoints", str(clip[0]), "--out",
                                 str(out), "--min-confidence", minimum], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        with VideoReader(clip[0]) as source, VideoReader(out) as filtered:
            changed[minimum] = np.mean([np.abs(a.image.astype(int) - b.image.astype(int)).max(-1).__gt__(60).mean()
                                        for a, b in zip(source, filtered)])
    assert changed["0"] > 0.002 and changed["1"] < changed["0"] / 10  # points drawn at 0; none at 1 (all are < 1)
