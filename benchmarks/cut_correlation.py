"""How alike a followed face's crops are from one frame to the next, while followed and across a
hard cut: what facepoints.tracking.SAME_PICTURE sits between.

    python benchmarks/cut_correlation.py --data ../shared/data --out runs/cuts

Followed: benchmarks/moving_face.py's moving and still clips. Cuts: one faces68 person for three
frames, then another person (the next identities, pairwise), in the same place or elsewhere.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import moving_face
from facepoints import tracking
from facepoints.data.landmarks import read_landmark_csv
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer
from facepoints.video import VideoReader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=6)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    keypointer = FaceKeypointer(threads=2)
    seen: list[float] = []
    same_picture = tracking.same_picture

    def recording(a, b):
        x, y = tracking._blocks(a).ravel(), tracking._blocks(b).ravel()
        seen.append(float(np.corrcoef(x, y)[0, 1]) if min(x.std(), y.std()) > 1e-6 else float("nan"))
        return same_picture(a, b)

    tracking.same_picture = recording
    face, points = moving_face.labelled_face(args.data)
    for static in (False, True):
        clip = args.out / f"{'still' if static else 'moving'}.mp4"
        moving_face.make_clip(face, points, clip, frames=90, static=static)
        tracker, seen[:] = tracking.FaceTracker(keypointer), []
        with VideoReader(clip) as reader:
            for frame in reader:
                tracker(frame.image, frame.time)
        print(f"followed, {clip.stem}: lowest {min(seen):.3f} over {len(seen)} frames")

    samples, _ = read_landmark_csv(args.data / "faces68" / "keypoints.csv")
    people = list({s.group: s for s in reversed(samples)}.values())[: 2 * args.pairs]

    def shot(sample, at):
        frame, image = np.full((480, 640, 3), 90, np.uint8), read_image(sample.image)[:300, :260]
        frame[at[1]:at[1] + image.shape[0], at[0]:at[0] + image.shape[1]] = image
        return frame

    for place, at in (("same place", (60, 40)), ("elsewhere", (360, 160))):
        cuts = []
        for a, b in zip(people[::2], people[1::2]):
            tracker, seen[:] = tracking.FaceTracker(keypointer, detect_every=5), []
            for i, frame in enumerate([shot(a, (60, 40))] * 3 + [shot(b, at)]):
                tracker(frame, i / 30)
            cuts.append(seen[-1])
        print(f"cut, {place}: highest {np.nanmax(cuts):.3f} of {len(cuts)} (nan: a flat crop, a cut as well)")


if __name__ == "__main__":
    main()
