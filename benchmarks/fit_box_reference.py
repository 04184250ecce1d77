"""Fit where YuNet's face box puts the five reference points, for `facepoints detect --box`.

    python benchmarks/fit_box_reference.py --data ../shared/data

A user's box (or a detector's without points) frames the first pass from these fractions of the
box; the refinement pass then frames from the model's own keypoints. Prints the median of each
labelled reference point relative to the matched YuNet box, over faces68 frames and 300-W faces.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facepoints.crop import PHOTO_FRAMING, reference_points
from facepoints.data.landmarks import read_landmark_csv
from facepoints.detectors import create_detector
from facepoints.imageio import read_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    detector = create_detector("yunet")
    fractions = []
    for csv_path in (args.data / "faces68" / "keypoints.csv", args.data / "w300" / "faces" / "keypoints.csv"):
        samples, scheme = read_landmark_csv(csv_path)
        for sample in samples:
            reference, ok = reference_points(sample.points, sample.mask, scheme, PHOTO_FRAMING)
            if not ok.all():
                continue
            centre = reference.mean(0)
            for det in detector(read_image(sample.image)):
                x, y, w, h = det.box
                if x <= centre[0] <= x + w and y <= centre[1] <= y + h:
                    fractions.append((reference - (x, y)) / (w, h))
                    break
    fractions = np.array(fractions)
    print(f"{len(fractions)} matched faces; median fractions (x, y) of the box:")
    print(np.round(np.median(fractions, 0), 3).tolist())


if __name__ == "__main__":
    main()
