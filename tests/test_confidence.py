"""Per-point confidence: in [0, 1], lower where the error is larger on held-out faces, lower where
an occluder covers the points; the points themselves are those of plain inference."""


import numpy as np
import pytest

from facepoints.commands.detect import example_photo
from facepoints.confidence import convert_confidence, point_confidence
from facepoints.data.landmarks import read_landmark_csv
from facepoints.draw import draw_faces
from facepoints.imageio import read_image
from facepoints.inference import Face, FaceKeypointer

from support import HELD_OUT



@pytest.fixture(scope="module")
def held_out(shared_data, keypointer):
    """(image, labels, matched face) for 40 held-out 300-W faces."""
    samples, _ = read_landmark_csv(shared_data / "w300" / "faces" / "keypoints.csv")
    out = []
    for sample in [s for s in samples if f"w300:{s.group}" in HELD_OUT and s.mask.all()][:40]:
        image = read_image(sample.image)
        face = min(keypointer(image), key=lambda f: np.linalg.norm(f.keypoints.mean(0) - sample.points.mean(0)))
        out.append((image, sample.points, face))
    return out


def ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values))


def test_lower_confidence_goes_with_larger_error_on_held_out_faces(held_out):
    confidence = np.concatenate([face.confidence for _, _, face in held_out])
    errors = np.concatenate([np.linalg.norm(face.keypoints - labels, axis=1) for _, labels, face in held_out])
    assert confidence.min() >= 0 and confidence.max() <= 1
    rho = np.corrcoef(ranks(confidence), ranks(errors))[0, 1]
    assert rho < -0.35  # docs/benchmarks.md: about -0.45 on all held-out faces


def test_covering_the_mouth_lowers_the_mouth_points_confidence(held_out, keypointer):
    drops = []
    for image, labels, face in held_out[:15]:
        covered = image.copy()
        (x0, y0), (x1, y1) = labels[48:68].min(0).astype(int) - 4, labels[48:68].max(0).astype(int) + 4
        covered[max(y0, 0) : y1, max(x0, 0) : x1] = 128
        after = min(keypointer(covered), key=lambda f: np.linalg.norm(f.keypoints.mean(0) - labels.mean(0)))
        drops.append([face.confidence[48:68].mean() - after.confidence[48:68].mean(),
                      face.confidence[36:48].mean() - after.confidence[36:48].mean()])
    mouth, eyes = np.array(drops).T
    # The face's mean spread lowers every point a little; the covered ones drop several times more.
    assert np.mean(mouth > 0) >= 0.7 and mouth.mean() > 0.005 and mouth.mean() > 3 * abs(eyes.mean())


def test_confidence_leaves_the_points_alone_and_needs_the_flip_test():
    image = read_image(example_photo())
    with_confidence = FaceKeypointer(threads=2)(image)[0]
    direct = FaceKeypointer(threads=2)
    crops, matrices = direct.frame(image, direct.detector(image))
    assert np.array_equal(with_confidence.keypoints, direct.to_image(direct.model.predict(crops), matrices)[0])
    assert FaceKeypointer(threads=2, flip_test=False)(image)[0].confidence is None
    five = FaceKeypointer(threads=2)(image, scheme="celeba5")[0]
    assert five.confidence.shape == (5,)
    assert five.confidence[0] == pytest.approx(with_confidence.confidence[36:42].mean(), abs=1e-6)
    assert convert_confidence(np.ones(68, np.float32), "ibug68", "fkd15").tolist() == [1.0] * 15


def test_unsure_points_are_drawn_faded_and_left_out_below_the_minimum():
    image = np.zeros((200, 200, 3), np.uint8)
    points = np.array([[50.0, 100.0], [150.0, 100.0]], np.float32)
    face = Face(np.array([20, 20, 160, 160], np.float32), 0.9, "celeba5", np.vstack([points, [[100, 100]] * 3]),
                confidence=np.array([1.0, 0.2, 0.0, 0.0, 0.0], np.float32))
    drawn = draw_faces(image, [face], boxes=False, min_confidence=0.1)
    sure, unsure = drawn[100, 50, 1], drawn[100, 150, 1]
    assert sure > 200 and 0 < unsure < sure / 2 and drawn[100, 100].max() == 0


def test_a_point_the_passes_disagree_on_is_less_sure_and_other_schemes_share_one_curve():
    even = np.full((1, 68), 2.0, np.float32)
    wide = even.copy()
    wide[0, 50] = 20.0
    before, after = point_confidence(even, 128), point_confidence(wide, 128)
    drop = before[0] - after[0]
    assert drop[50] > 3 * drop[0] > 0  # the face's mean spread counts too, the point's own more
    assert before[0, 0] != before[0, 30]  # jaw and nose points are not equally sure at equal spread
    five = point_confidence(np.full((2, 5), 0.5, np.float32), 128, "someone-elses-model")
    assert five.shape == (2, 5) and len(set(five.ravel().tolist())) == 1
