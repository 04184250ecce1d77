"""The bundled YuNet (ONNX Runtime) against libfacedetection itself, on real photos."""

import itertools

import numpy as np
import pytest
import yuface

from facepoints.data.landmarks import read_landmark_csv
from facepoints.detectors import create_detector
from facepoints.detectors.base import shrink
from facepoints.detectors.yunet import MAX_SIDE, YuNet
from facepoints.errors import FacepointsError
from facepoints.imageio import read_image


@pytest.fixture(scope="module")
def yunet():
    # yuface keeps scores above its threshold after truncating them to whole percents.
    return create_detector("yunet", threshold=0.61, threads=2)


def test_onnx_yunet_gives_the_librarys_detections(yunet, shared_data):
    """Same faces, boxes, five points and scores as the library, once the library's truncation
    to integers is applied to ours; crowded multi-face photos and single-face frames both."""
    photos = sorted((shared_data / "w300/photos/images").glob("*.jpg"))[:60]
    frames = sorted((shared_data / "faces68/images").glob("*.jpg"))[:40]
    faces = 0
    for path in photos + frames:
        image, _ = shrink(read_image(path), MAX_SIDE)  # as the detector shrinks photos
        scores, boxes, points = yuface.detect(np.ascontiguousarray(image[..., ::-1]), conf=0.6)
        our_scores, our_boxes, our_points = yunet.detect(image)
        assert len(our_scores) == len(scores), path.name
        np.testing.assert_array_equal(np.trunc(our_boxes), boxes, err_msg=path.name)
        np.testing.assert_array_equal(np.trunc(our_points.reshape(-1, 10)), points.reshape(-1, 10), err_msg=path.name)
        np.testing.assert_array_equal(np.trunc(our_scores * 100), scores, err_msg=path.name)
        faces += len(scores)
    assert faces > 120  # the photos hold many faces: the comparison is not vacuous


def test_every_labelled_face_of_a_multi_face_photo_is_found(shared_data):
    """Full-size AFW photos, shrunk for detection and boxes scaled back: each labelled face gets a
    box centred inside its landmarks' extent and of about its size (benchmarks/detectors.py's rule)."""
    samples, _ = read_landmark_csv(shared_data / "w300/photos/keypoints.csv")
    detector = create_detector("yunet", threshold=0.6, threads=2)
    by_photo = itertools.groupby(sorted(samples, key=lambda s: str(s.image)), key=lambda s: str(s.image))
    found = total = 0
    for path, faces in itertools.islice(by_photo, 25):
        boxes = np.array([d.box for d in detector(read_image(path))]).reshape(-1, 4)
        centres, sizes = boxes[:, :2] + boxes[:, 2:] / 2, np.sqrt(boxes[:, 2] * boxes[:, 3])
        for face in faces:
            low, high = face.points.min(0), face.points.max(0)
            inside = np.all((centres >= low) & (centres <= high), axis=1)
            ratio = sizes / np.sqrt(np.prod(high - low))
            found += bool(np.any(inside & (ratio > 0.5) & (ratio < 2)))
            total += 1
    assert total > 40 and found == total, (found, total)


def test_blank_and_tiny_images_give_no_faces(yunet):
    for shape in ((1, 1, 3), (31, 17, 3), (480, 640, 3)):
        assert yunet(np.full(shape, 128, np.uint8)) == []


def test_commands_default_detect_size_is_the_detectors():
    """The CLI's default and limits are YuNet's own (facepoints.options), and the Python API meets
    a size outside them with a one-line error."""
    from facepoints.commands.options import DETECT_SIZE
    from facepoints.detectors.yunet import SIDE_LIMITS

    assert DETECT_SIZE.default == MAX_SIDE and (DETECT_SIZE.min, DETECT_SIZE.max) == SIDE_LIMITS
    with pytest.raises(FacepointsError, match="detect_size must be 64-8192 px, not 10"):
        YuNet(max_side=10)


def test_non_maximum_suppression_keeps_what_opencv_keeps():
    """The numpy NMS keeps the boxes cv2.dnn.NMSBoxes keeps, in its order, on clusters of
    overlapping boxes (8 clusters of 20, scores at random), at the detector's overlap and another."""
    cv2 = pytest.importorskip("cv2")
    from facepoints.detectors.yunet import NMS_IOU, non_maximum_suppression

    rng = np.random.default_rng(0)
    cases = []
    for _ in range(50):
        centres = np.repeat(rng.uniform(0, 500, (8, 2)), 20, axis=0) + rng.normal(0, 15, (160, 2))
        sizes = np.repeat(rng.uniform(20, 120, (8, 1)), 20, axis=0) * rng.uniform(0.8, 1.25, (160, 1))
        cases.append((np.hstack([centres - sizes / 2, np.hstack([sizes, sizes])]), rng.uniform(0, 1, 160)))
    for threshold, iou in [(0.6, NMS_IOU), (0.3, 0.5)]:
        for boxes, scores in cases:
            ours = non_maximum_suppression(boxes, scores, threshold, iou, 1000)
            theirs = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), threshold, iou, top_k=1000)).reshape(-1)
            assert len(ours) > 1 and ours.tolist() == theirs.tolist()
