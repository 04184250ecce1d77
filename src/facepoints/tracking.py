"""Faces followed through a video: detect now and then, re-frame from the last keypoints in
between, and smooth each face's points over time so they hold still when the face does.

Running the detector on every frame is the slow part and its boxes wobble; a face's own
keypoints frame the next crop better (the same re-framing as ``FaceKeypointer.reframe``). The
detector runs every ``detect_every`` frames to pick up new faces and drop lost ones; a track
keeps its identity, and its smoothing state, while its box overlaps a new detection.

Smoothing is the One Euro filter (Casiez et al., CHI 2012) from its authors' package: a
low-pass filter whose cut-off rises with speed, so a still face is steady and a moving one does
not lag. Points are filtered in units of the face's eye distance when first seen, so the same
settings suit a face of 40 or 400 pixels (a face that comes much closer is smoothed a little more).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from OneEuroFilter import OneEuroFilter

from facepoints.inference import Face, FaceKeypointer

# The correlation of a face's coarse crops in two frames below which its points no longer fit the
# picture (a cut): far from both a followed face's and a cut's (docs/benchmarks.md, "Cuts").
SAME_PICTURE = 0.8


@dataclass(frozen=True)
class Smoothing:
    """Defaults chosen on benchmarks/filter_video.py's clips: a still face's jitter cut to a small
    share of the raw points', for little lag on a moving one (docs/benchmarks.md)."""

    min_cutoff: float = 0.3  # Hz: lower holds a still face steadier
    beta: float = 30.0  # how fast the cut-off rises with speed (eye distances per second)
    d_cutoff: float = 1.0  # Hz, for the speed estimate


class PointSmoother:
    """One Euro filters for a (K, 2) array of points, one per coordinate."""

    def __init__(self, shape: tuple[int, int], settings: Smoothing, rate: float):
        self.filters = [OneEuroFilter(rate, settings.min_cutoff, settings.beta, settings.d_cutoff)
                        for _ in range(shape[0] * shape[1])]

    def __call__(self, points: np.ndarray, time: float, scale: float) -> np.ndarray:
        flat = points.reshape(-1) / scale
        # The package skips its time step on a zero timestamp; start the clock just after zero.
        stamp = time + 1e-3
        return np.array([f(float(v), stamp) for f, v in zip(self.filters, flat)], np.float32).reshape(points.shape) * scale


@dataclass
class Track:
    id: int
    box: np.ndarray
    score: float
    points: np.ndarray  # raw model-scheme keypoints from the last frame
    scale: float  # eye distance when first seen: the smoothing unit
    smoother: PointSmoother | None = None
    confidence: np.ndarray | None = None  # (K,) of the last frame's points (facepoints.confidence)
    view: np.ndarray | None = None  # the crop its points framed in the last frame, before anyone drew on it


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = np.maximum(a[:2], b[:2])
    x1, y1 = np.minimum(a[:2] + a[2:], b[:2] + b[2:])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def moved_box(box: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The box carried along with its face's keypoints (shift and scale of their spread)."""
    scale = float(after.std(0).mean() / max(before.std(0).mean(), 1e-6))
    centre = box[:2] + box[2:] / 2 + (after.mean(0) - before.mean(0))
    size = box[2:] * scale
    return np.concatenate([centre - size / 2, size]).astype(np.float32)


def same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two crops of a face, framed alike, show the same thing: the correlation of their
    coarse brightness (8x8 px blocks, which motion blur and noise barely change) is high."""
    coarse = [_blocks(c) for c in (a, b)]
    if min(c.std() for c in coarse) < 1e-6:  # a flat picture (a fade to black): look again
        return False
    return float(np.corrcoef(coarse[0].ravel(), coarse[1].ravel())[0, 1]) >= SAME_PICTURE


def _blocks(crop: np.ndarray, block: int = 8) -> np.ndarray:
    grey = crop.astype(np.float32).mean(-1) if crop.ndim == 3 else crop.astype(np.float32)
    size = grey.shape[0] // block * block
    return grey[:size, :size].reshape(size // block, block, size // block, block).mean((1, 3))


class FaceTracker:
    """Call it on each frame in order; get every face with smoothed keypoints and a track id."""

    def __init__(self, keypointer: FaceKeypointer, detect_every: int = 5, smoothing: Smoothing | None = Smoothing(),
                 rate: float = 30.0, scheme: str | None = None, min_iou: float = 0.3):
        self.keypointer, self.detect_every, self.smoothing = keypointer, max(1, detect_every), smoothing
        self.rate, self.scheme, self.min_iou = rate, scheme, min_iou
        self.tracks: list[Track] = []
        self._frames, self._next_id = 0, 0
        self._eyes = _eye_indices(keypointer.model.scheme.name)

    def __call__(self, image: np.ndarray, time: float) -> list[tuple[int, Face]]:
        cut = self._follow(image)
        if self._frames % self.detect_every == 0 or not self.tracks or cut:
            self._detect(image)
        self._frames += 1
        if self.tracks:  # kept now: a filter may draw into this frame once it has its faces
            views, _ = self.keypointer.frame_from(image, np.stack([t.points for t in self.tracks]))
            for track, view in zip(self.tracks, views):
                track.view = view
        out = []
        for track in self.tracks:
            points = track.points
            if track.smoother is not None:
                points = track.smoother(points, time, track.scale)
            out.append((track.id, self.keypointer.face(track.box, track.score, points, self.scheme, track.confidence)))
        return out

    def _follow(self, image: np.ndarray) -> bool:
        """Move every track to this frame, framed from its last keypoints; True at a cut.

        A face is followed where its last keypoints frame in this frame much what they framed in
        the last one; where they frame something else (a hard cut, a face gone behind something)
        the track ends and the detector runs at once."""
        if not self.tracks:
            return False
        height, width = image.shape[:2]
        last = np.stack([t.points for t in self.tracks])
        crops, matrices = self.keypointer.frame_from(image, last)
        points, confidence = self.keypointer.locate(crops, matrices)
        kept = []
        for track, p, c, now in zip(self.tracks, points, confidence, crops):
            centre = p.mean(0)
            inside = 0 <= centre[0] < width and 0 <= centre[1] < height  # a face that left the frame is dropped
            if inside and same_picture(now, track.view):
                track.box, track.points, track.confidence = moved_box(track.box, track.points, p), p, c
                kept.append(track)
        cut = len(kept) < len(self.tracks)
        self.tracks = kept
        return cut

    def _detect(self, image: np.ndarray) -> None:
        """Start tracks for new faces and end those no detection confirms. A confirmed track keeps
        its own (already followed) keypoints, so detection frames cause no jump."""
        detections = sorted(self.keypointer.detector(image), key=lambda d: -d.score)
        unmatched, tracks, new = list(self.tracks), [], []
        for detection in detections:
            best = max(unmatched, key=lambda t: box_iou(t.box, detection.box), default=None)
            if best is not None and box_iou(best.box, detection.box) >= self.min_iou:
                unmatched.remove(best)
                best.box, best.score = detection.box, detection.score
                tracks.append(best)
            else:
                new.append(detection)
        found = []
        if new:
            found = zip(new, *self.keypointer.locate(*self.keypointer.frame(image, new)))
        self.tracks = tracks + [self._new_track(d.box, d.score, p, c) for d, p, c in found]

    def _new_track(self, box: np.ndarray, score: float, points: np.ndarray, confidence: np.ndarray | None) -> Track:
        scale = float(np.linalg.norm(points[self._eyes[1]].mean(0) - points[self._eyes[0]].mean(0))) or float(box[2])
        smoother = PointSmoother(points.shape, self.smoothing, self.rate) if self.smoothing else None
        self._next_id += 1
        return Track(self._next_id - 1, box, score, points, max(scale, 1.0), smoother, confidence)


def _eye_indices(scheme: str) -> tuple[list[int], list[int]]:
    """Model keypoints that make the image-left and image-right eye centres."""
    from facepoints.schemes import mapping_matrix

    weights = mapping_matrix(scheme, "celeba5")
    return list(np.flatnonzero(weights[0])), list(np.flatnonzero(weights[1]))
