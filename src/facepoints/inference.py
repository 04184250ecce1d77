"""Keypoints for every face in a photo: detect, frame, predict, optionally refine, map back. No torch.

The crop is framed from the detector's five reference points (or a box), exactly as training
crops were framed from labelled ones; each refinement pass re-frames the face from the model's
own keypoints, which is the training framing up to the model's error. With YuNet's points one
pass is enough: a second barely moves held-out NME and costs another pass (docs/benchmarks.md), so
refinement is off by default and matters most for --box input."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facepoints.crop import apply_affine, crop_face, framing_transform, invert_affine, reference_points
from facepoints.detectors import Detection, create_detector
from facepoints.errors import DataError, FacepointsError, OptionError
from facepoints.imageio import ImageSource, read_image
from facepoints.options import KeypointerOptions, keypointer_options
from facepoints.confidence import convert_confidence, point_confidence
from facepoints.openness import Openness, openness
from facepoints.pose import HeadPose, head_pose
from facepoints.runtime import KeypointModel
from facepoints.schemes import BUILT_IN, get_scheme, mapping_matrix

# Where the five reference points sit inside a YuNet face box, as fractions of the box: the
# median over the labelled faces68 and 300-W faces (benchmarks/fit_box_reference.py). The
# refinement pass corrects what a box alone cannot know (pose, expression).
BOX_REFERENCE = np.array(
    [[0.281, 0.401], [0.741, 0.395], [0.521, 0.595], [0.326, 0.765], [0.709, 0.761]], np.float32
)


@dataclass
class Face:
    box: np.ndarray  # (4,) x, y, w, h
    score: float
    scheme: str
    keypoints: np.ndarray  # (K, 2) 0-based pixel centres of the input image
    confidence: np.ndarray | None = None  # (K,) in [0, 1] (facepoints.confidence); None without flip test
    pose: HeadPose | None = None  # from 68-point models (facepoints.pose)
    openness: Openness | None = None  # eye and mouth aspect ratios, from 68-point models (facepoints.openness)

    @property
    def names(self) -> tuple[str, ...]:
        return get_scheme(self.scheme).names

    def as_dict(self, decimals: int = 2) -> dict:
        return {
            "box": [round(float(v), decimals) for v in self.box],
            "score": round(self.score, 4),
            "scheme": self.scheme,
            "keypoints": np.round(self.keypoints.astype(float), decimals).tolist(),
            "names": list(self.names),
            **({"confidence": np.round(self.confidence.astype(float), 3).tolist()} if self.confidence is not None else {}),
            **({"pose": self.pose.as_dict()} if self.pose is not None else {}),
            **({"openness": self.openness.as_dict()} if self.openness is not None else {}),
        }

    def aligned(self, image: np.ndarray, size: int = 112, template: str = "arcface") -> np.ndarray:
        """This face cut from ``image`` (RGB uint8) by the similarity that puts its eyes, nose and
        mouth corners on ``template``'s (facepoints.align: "arcface" or "head"), ``size`` px square."""
        from facepoints.align import aligned_crop

        return aligned_crop(image, self.keypoints, self.scheme, size, template)


def image_json(image: np.ndarray, faces: list[Face]) -> dict:
    """One image's entry in facepoints' JSON: its displayed size and every face."""
    return {"width": int(image.shape[1]), "height": int(image.shape[0]), "faces": [f.as_dict() for f in faces]}


def box_reference_points(box: np.ndarray) -> np.ndarray:
    x, y, w, h = box
    return BOX_REFERENCE * np.array([w, h], np.float32) + np.array([x, y], np.float32)


def parse_box(text: str) -> np.ndarray:
    try:
        box = np.array([float(v) for v in text.split(",")], np.float32)
    except ValueError:
        box = np.zeros(0)
    if box.shape != (4,) or not np.isfinite(box).all() or box[2] <= 0 or box[3] <= 0:
        raise FacepointsError(f"--box must be x,y,w,h of finite numbers with positive width and height, not {text!r}")
    return box


def check_box_on(box: np.ndarray, image: np.ndarray, name: str) -> None:
    """A box given by hand must lie at least a quarter on the image: one far past it frames no face."""
    height, width = image.shape[:2]
    x, y, w, h = (float(v) for v in box)
    overlap = max(0.0, min(x + w, width) - max(x, 0.0)) * max(0.0, min(y + h, height) - max(y, 0.0))
    if overlap < 0.25 * w * h:
        raise DataError(name, f"--box {x:g},{y:g},{w:g},{h:g} lies mostly outside the {width}x{height} image")


def rgb_image(image: ImageSource, channels: str = "rgb") -> np.ndarray:
    """What ``FaceKeypointer`` takes, as the (H, W, 3) uint8 RGB array it works on: a path, bytes,
    a PIL image or an array as ``imageio.read_image`` reads them. ``channels="bgr"`` reads an
    array's colours in OpenCV's order (BGR or BGRA); an RGB uint8 array passes as it is."""
    if channels not in ("rgb", "bgr"):
        raise ValueError(f"channels must be 'rgb' or 'bgr', not {channels!r}")
    if isinstance(image, np.ndarray) and channels == "bgr" and image.ndim == 3 and image.shape[2] in (3, 4):
        image = image[..., [2, 1, 0, 3][: image.shape[2]]]
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image
    return read_image(image)


class FaceKeypointer:
    """Detector + keypoint model. Call it on an image (path, bytes, PIL image, or a grey, RGB or
    RGBA array; ``channels="bgr"`` for OpenCV's arrays); get a Face per face found.

    Takes a KeypointerOptions, or its fields as keywords (``FaceKeypointer("ibug68-fast",
    threads=1)``); keywords given with ``options`` replace its fields. ``threads`` and ``flip_test``
    apply to a model given by name or path; a model object comes as it was made."""

    def __init__(self, model: str | Path | KeypointModel | None = None, *, options: KeypointerOptions | None = None,
                 **settings):
        if model is not None:
            settings["model"] = model
        self.options = keypointer_options(options, **settings)
        model = self.options.model
        # Anything with KeypointModel's attributes and predict() will do (explain passes a torch model).
        self.model = (KeypointModel(model, threads=self.options.threads, flip_test=self.options.flip_test)
                      if isinstance(model, (str, Path)) else model)
        self._detector = None
        self._detector_lock = threading.Lock()  # batch commands call one keypointer from several threads
        self.check_scheme(self.options.scheme)

    @property
    def detector(self):
        with self._detector_lock:
            if self._detector is None:  # built on first use: --box runs need none
                options = self.options
                sized = {"max_side": options.detect_size} if options.detect_size else {}
                self._detector = create_detector(options.detector, threshold=options.threshold,
                                                 threads=options.threads, **sized)
        return self._detector

    def __call__(self, image: ImageSource, boxes: list[np.ndarray] | None = None,
                 scheme: str | None = None, channels: str = "rgb") -> list[Face]:
        image = rgb_image(image, channels)
        detections = [Detection(b, 1.0) for b in boxes] if boxes is not None else self.detector(image)
        if not detections:
            return []
        points, confidence = self.locate(*self.frame(image, detections))
        return [self.face(d.box, d.score, p, scheme, c) for d, p, c in zip(detections, points, confidence)]

    def locate(self, crops: np.ndarray, matrices: list[np.ndarray]) -> tuple[np.ndarray, list]:
        """The model's points on its crops, in the image's pixel centres, and each face's confidence."""
        points, confidence = self.predict_crops(crops)
        return self.to_image(points, matrices), confidence

    def predict_crops(self, crops: np.ndarray) -> tuple[np.ndarray, list]:
        """The model's (N, K, 2) points on its crops and each crop's (K,) confidence (None without flip
        test, or for a model that gives no flip spread)."""
        if not isinstance(self.model, KeypointModel):
            return self.model.predict(crops), [None] * len(crops)
        points, spread = self.model.predict_with_spread(crops)
        if spread is None:
            return points, [None] * len(crops)
        return points, list(point_confidence(spread, self.model.framing.size, self.model.path.stem))

    def frame(self, image: np.ndarray, detections: list[Detection]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The model's input crop of every detected face (after the refinement passes) and its
        image-to-crop matrix; explanation tools look at the same crops."""
        references = np.stack([
            d.landmarks if d.landmarks is not None else box_reference_points(d.box) for d in detections
        ])[:, : self.model.framing.num_reference]
        source = self._model_colours(image)
        crops, matrices = self._crop(source, references)
        for _ in range(self.options.refine):
            points = self.to_image(self.model.predict(crops), matrices)
            crops, matrices = self._crop(source, self._references(points))
        return crops, matrices

    def frame_from(self, image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The model's crops framed from earlier keypoints (model scheme), and their image-to-crop matrices."""
        return self._crop(self._model_colours(image), self._references(points))

    def face(self, box: np.ndarray, score: float, points: np.ndarray, scheme: str | None = None,
             confidence: np.ndarray | None = None) -> Face:
        """A Face from model-scheme keypoints (and their confidence), converted to ``scheme`` (default:
        the options'); 68-point models also give the head pose and the eyes' and mouth's openness."""
        source = self.model.scheme.name
        target, converted = self._convert(points, scheme)
        if confidence is not None:
            confidence = convert_confidence(confidence, source, target)
        shape = (pose_and_openness(points) if source == "ibug68" else (None, None))
        return Face(box, score, target, converted, confidence, *shape)

    def _references(self, points: np.ndarray) -> np.ndarray:
        labelled = np.ones(points.shape[:2], bool)
        return reference_points(points, labelled, self.model.scheme.name, self.model.framing)[0]

    def _model_colours(self, image: np.ndarray) -> np.ndarray:
        """The photo as the model takes it: RGB, or grey for one-channel models (once per photo)."""
        return image if self.model.channels == 3 else grey_image(image)

    def _crop(self, image: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        framing = self.model.framing
        matrices = [framing_transform(r, framing) for r in references]
        return np.stack([crop_face(image, m, framing.size) for m in matrices]), matrices

    def to_image(self, predictions: np.ndarray, matrices: list[np.ndarray]) -> np.ndarray:
        """(N, K, 2) model outputs on the crops -> pixel centres of the image."""
        pred = predictions - self.model.label_offset  # label frame -> pixel centres
        return np.stack([apply_affine(p, invert_affine(m)) for p, m in zip(pred, matrices)])

    def check_scheme(self, scheme: str | None) -> None:
        """Fail before any work if the model's keypoints cannot give ``scheme``."""
        self._convert(np.zeros((self.model.scheme.num_keypoints, 2), np.float32), scheme)

    def _convert(self, points: np.ndarray, scheme: str | None) -> tuple[str, np.ndarray]:
        source = self.model.scheme.name
        scheme = scheme or self.options.scheme
        if scheme is None or scheme == source:
            return source, points
        try:
            weights = self._mapping_to(scheme)
        except (ValueError, KeyError):
            raise OptionError(f"model {self.model.path.name} gives {source} keypoints, which cannot make {scheme!r}; "
                                  f"it can give {', '.join(self.schemes_given())}") from None
        return scheme, np.einsum("ts,...sc->...tc", weights, points).astype(np.float32)

    def _mapping_to(self, scheme: str) -> np.ndarray:
        """(K_scheme, K_model) weights (ValueError or KeyError where the model's points cannot make it)."""
        record = getattr(self.model, "record", None)  # a model object of the caller's may have none
        return record.mapping_to(scheme) if record is not None else mapping_matrix(self.model.scheme.name, scheme)

    def schemes_given(self) -> list[str]:
        """The model's own scheme and every built-in one its points convert to (not the other user
        schemes this process has registered)."""
        given = [self.model.scheme.name]
        for name in (s.name for s in BUILT_IN):
            try:
                self._mapping_to(name)
            except (ValueError, KeyError):
                continue
            given += [name] if name not in given else []
        return given


def pose_and_openness(points: np.ndarray) -> tuple[HeadPose, Openness]:
    """(68, 2) ibug68 points -> the head's pose and how open its eyes and mouth are."""
    return head_pose(points), openness(points)


def grey_image(image: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of RGB images (any leading axes), as PIL's 'L' mode computes it."""
    return (image[..., :3] @ np.array([0.299, 0.587, 0.114])).round().clip(0, 255).astype(np.uint8)
