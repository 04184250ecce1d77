"""How open the eyes and mouth are, from the 68 points, and blinks in a sequence of frames.

Eye aspect ratio (Soukupova and Cech, CVWW 2016): the two eyelid gaps over the eye's width, about
0.3 for an open eye and near 0 for a closed one, whatever the face's size. The mouth ratio is the
same measure on the inner lip (points 60-67). A blink is the mean of both eyes' ratios below
``BLINK_THRESHOLD`` for a plausible blink's length: shorter is noise, longer is eyes kept shut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLINK_THRESHOLD = 0.2  # the usual eye aspect ratio threshold (Soukupova and Cech)
BLINK_SECONDS = (0.03, 0.5)  # a blink lasts about 0.1-0.4 s; one closed frame at 30 fps still counts
_EYES = ((36, 37, 38, 39, 40, 41), (42, 43, 44, 45, 46, 47))  # corner, upper lid x2, corner, lower lid x2
_INNER_LIP = (60, 61, 62, 63, 64, 65, 66, 67)


def eye_aspect_ratio(points: np.ndarray, eye: tuple[int, ...]) -> float:
    p = np.asarray(points, np.float64)[list(eye)]
    gaps = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    return float(gaps / (2 * max(np.linalg.norm(p[0] - p[3]), 1e-6)))


@dataclass(frozen=True)
class Openness:
    """Eye aspect ratios of the eye on the image's left and right, and the mouth's."""

    left_eye: float
    right_eye: float
    mouth: float

    @property
    def eyes(self) -> float:
        return (self.left_eye + self.right_eye) / 2

    def as_dict(self, decimals: int = 3) -> dict:
        return {"left_eye": round(self.left_eye, decimals), "right_eye": round(self.right_eye, decimals),
                "mouth": round(self.mouth, decimals)}


def openness(points: np.ndarray) -> Openness:
    """(68, 2) ibug68 points -> eye and mouth aspect ratios."""
    p = np.asarray(points, np.float64)[list(_INNER_LIP)]
    gaps = sum(np.linalg.norm(p[i] - p[8 - i]) for i in (1, 2, 3))
    mouth = float(gaps / (3 * max(np.linalg.norm(p[0] - p[4]), 1e-6)))
    return Openness(eye_aspect_ratio(points, _EYES[0]), eye_aspect_ratio(points, _EYES[1]), mouth)


class BlinkCounter:
    """Feed each frame's tracked faces in order (``counter(time, {track: eye_ratio})``); ``blinks``
    lists each blink found as ``{"track", "start", "end"}`` in seconds."""

    def __init__(self, threshold: float = BLINK_THRESHOLD, seconds: tuple[float, float] = BLINK_SECONDS):
        self.threshold, self.seconds = threshold, seconds
        self.blinks: list[dict] = []
        self._closed: dict[int, tuple[float, float]] = {}  # track -> (first, last) closed frame time

    def __call__(self, time: float, eyes: dict[int, float]) -> None:
        for track in list(self._closed):
            if eyes.get(track, 1.0) >= self.threshold:  # opened again (or lost): close the episode
                self._end(track, time)
        for track, ratio in eyes.items():
            if ratio < self.threshold:
                first, _ = self._closed.get(track, (time, time))
                self._closed[track] = (first, time)

    def finish(self) -> list[dict]:
        """End the sequence (eyes still closed then are not a blink) and return ``blinks``."""
        self._closed.clear()
        return self.blinks

    def _end(self, track: int, time: float) -> None:
        first, _ = self._closed.pop(track)
        if self.seconds[0] <= time - first <= self.seconds[1]:
            self.blinks.append({"track": track, "start": round(first, 6), "end": round(time, 6)})
