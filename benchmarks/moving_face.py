"""A test video with a known truth: one labelled face moved smoothly (or held still) over a
plain background, with sensor-like noise on every frame, written through the same video writer
facepoints uses.

    python benchmarks/moving_face.py --data ../shared/data --out runs/clip.mp4 --frames 150 [--static]

`make_clip` returns the true keypoints of every frame, so tests and benchmarks can score the
filter's tracking (error, jitter, lag) against them.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from facepoints.video import Frame, video_writer


def make_clip(face: np.ndarray, points: np.ndarray, out: Path, frames: int = 90, size: tuple[int, int] = (640, 480),
              static: bool = False, noise: float = 2.0, rate: int = 30, seed: int = 0) -> np.ndarray:
    """Write the clip; return (frames, K, 2) true keypoints in its pixels (0-based centres)."""
    rng = np.random.default_rng(seed)
    width, height = size
    eye_distance = float(np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))
    across, down = np.meshgrid(np.linspace(60, 200, width), np.linspace(90, 150, height))
    background = np.dstack([down, np.full((height, width), 120.0), across])
    truth = []
    with video_writer(out, width, height, Fraction(rate)) as write:
        for i in range(frames):
            t = 0.0 if static else i / rate
            scale = 70.0 / eye_distance * (1 + 0.15 * np.sin(0.7 * t))
            angle = np.deg2rad(10 * np.sin(1.1 * t))
            centre = np.array([width / 2 + 120 * np.sin(0.9 * t), height / 2 + 50 * np.sin(1.3 * t)])
            z = scale * np.exp(1j * angle)
            linear = np.array([[z.real, -z.imag], [z.imag, z.real]])
            matrix = np.hstack([linear, (centre - linear @ points.mean(0))[:, None]])
            warped = cv2.warpAffine(face, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
            inside = cv2.warpAffine(np.full(face.shape[:2], 255, np.uint8), matrix, size) > 128
            image = np.where(inside[..., None], warped, background)
            image = (image + rng.normal(0, noise, image.shape)).clip(0, 255).astype(np.uint8)
            write(Frame(image, i, i / rate))
            truth.append(points @ linear.T + matrix[:, 2])
    return np.asarray(truth, np.float32)


def labelled_face(data: Path, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A faces68 frame and its 68 points (converted to 0-based centres by facepoints' reader)."""
    from facepoints.data.landmarks import read_landmark_csv
    from facepoints.imageio import read_image

    samples, _ = read_landmark_csv(data / "faces68" / "keypoints.csv")
    return read_image(samples[index].image), samples[index].points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--static", action="store_true")
    args = parser.parse_args()
    face, points = labelled_face(args.data)
    truth = make_clip(face, points, args.out, args.frames, static=args.static)
    np.save(args.out.with_suffix(".truth.npy"), truth)


if __name__ == "__main__":
    main()
