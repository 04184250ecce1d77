"""Face detectors that work offline, compared on the same photos in one run: recall, false
detections and CPU time.

    python benchmarks/detectors.py --data ../shared/data --out runs/detectors

Candidates (each ships its weights inside its wheel; the peers are benchmark-only, see
benchmarks/requirements-peers.txt):

- ``yunet``: the package's detector (libfacedetection's YuNet, BSD-3, exported to ONNX by
  tools/export_yunet.py and run with ONNX Runtime); photos shrunk to 640 px at most.
- ``yunet-library``: the same network inside libfacedetection itself (the ``yuface`` wheel), as
  facepoints ran it until 2026-12, on the same 640 px photos: the speed ratio of the two runtimes.
- ``blazeface-short`` / ``blazeface-full``: MediaPipe 0.10.21's face detection, short-range
  (128 px input, faces within ~2 m) and full-range (192 px) models.
- ``dlib-hog`` / ``dlib-hog-up1``: dlib's HOG + linear SVM frontal detector, on the image as
  it is and upsampled once (``face_recognition``'s default, which finds faces down to ~40 px).
- ``haar``: OpenCV's ``haarcascade_frontalface_default.xml`` (scaleFactor 1.1, minNeighbors 5, as
  in the seed notebooks); only OpenCV 4.x wheels carry the cascade files.

Matching (documented in benchmarks/README.md): a labelled face counts as found when a detection's
box centre lies inside the bounding box of its labelled landmarks and the box's size
(sqrt(w*h)) is 0.5-2x the landmark box's size. Detections are matched one-to-one, nearest centre
first; every detection left unmatched is a false detection. Detectors draw their boxes
differently (dlib's is tight around brows-to-mouth, Haar's and YuNet's take in the forehead), so
the size window is wide; the median size ratio of matched boxes is reported to show none sits
near its edge. On w300/photos some real faces carry no annotation (the 300-W labels skip small
or background faces), so "false" detections there include real unlabelled faces: compare the
detectors' counts, not the absolute number.

Time is the detector call alone (image decoding excluded), every detector run on each image in
turn so that load from other processes falls on all of them alike, with 2 threads where the
library takes a setting (dlib and Haar's cascade run on one).
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("FACEPOINTS_BENCH_THREADS", "2"))
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, str(THREADS))
# yuface's bundled libgomp spins its idle threads by default; on a shared 2-core machine that
# made YuNet 5-10x slower (measured). Passive waiting is what a shared machine needs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from facepoints.data.landmarks import read_landmark_csv  # noqa: E402
from facepoints.detectors import Detection, create_detector  # noqa: E402
from facepoints.detectors.base import scaled_back, shrink  # noqa: E402
from facepoints.imageio import read_image  # noqa: E402

cv2.setNumThreads(THREADS)

SIZE_RANGE = (0.5, 2.0)


# --------------------------------------------------------------------------------------------
# Peer detectors, wrapped in the package's Detector interface (RGB uint8 in, Detections out).


class Haar:
    """OpenCV's frontal-face Haar cascade; the score is the cascade's level weight."""

    def __init__(self, threshold: float = 0.0, scale_factor: float = 1.1, min_neighbors: int = 5):
        path = haar_cascade_path()
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise RuntimeError(f"cannot load {path}")
        self.threshold, self.scale_factor, self.min_neighbors = threshold, scale_factor, min_neighbors

    def __call__(self, image: np.ndarray) -> list[Detection]:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        boxes, _, weights = self.cascade.detectMultiScale3(
            grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, outputRejectLevels=True)
        found = [Detection(np.asarray(b, np.float32), float(w)) for b, w in zip(boxes, np.ravel(weights))]
        return sorted((d for d in found if d.score >= self.threshold), key=lambda d: -d.score)


def haar_cascade_path() -> Path:
    data = getattr(cv2, "data", None)
    folder = Path(getattr(data, "haarcascades", "")) if data is not None else None
    path = folder / "haarcascade_frontalface_default.xml" if folder else None
    if path is None or not path.is_file():
        raise RuntimeError(f"OpenCV {cv2.__version__} has no Haar cascade files (OpenCV 5 wheels carry none; "
                           "use opencv-python-headless<5, see benchmarks/requirements-peers.txt)")
    return path


class DlibHOG:
    """dlib's HOG frontal-face detector; threshold is dlib's adjust_threshold (0 = its default)."""

    def __init__(self, threshold: float = 0.0, upsample: int = 0):
        import dlib

        self.detector = dlib.get_frontal_face_detector()
        self.threshold, self.upsample = threshold, upsample

    def __call__(self, image: np.ndarray) -> list[Detection]:
        rects, scores, _ = self.detector.run(image, self.upsample, self.threshold)
        return sorted(
            (Detection(np.array([r.left(), r.top(), r.width(), r.height()], np.float32), float(s))
             for r, s in zip(rects, scores)),
            key=lambda d: -d.score)


class BlazeFace:
    """MediaPipe's BlazeFace (legacy face_detection solution of mediapipe 0.10.21).

    Its six key points (eyes, nose tip, mouth centre, ear tragions) hold no mouth corners, so
    Detections carry no celeba5 landmarks; a keypoint pipeline frames from the box."""

    def __init__(self, threshold: float = 0.5, model_selection: int = 0):
        import mediapipe as mp

        self.solution = mp.solutions.face_detection.FaceDetection(
            model_selection=model_selection, min_detection_confidence=threshold)

    def __call__(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        result = self.solution.process(np.ascontiguousarray(image))
        detections = []
        for found in result.detections or ():
            box = found.location_data.relative_bounding_box
            xywh = np.array([box.xmin * width, box.ymin * height, box.width * width, box.height * height], np.float32)
            detections.append(Detection(xywh, float(found.score[0])))
        return sorted(detections, key=lambda d: -d.score)


class YuNetLibrary:
    """libfacedetection's own YuNet (``yuface``): integer boxes and points, scores in whole percents
    (kept above the threshold); its detection_output drops scores under 0.5 before NMS."""

    def __init__(self, threshold: float = 0.5):
        import yuface

        self.detect, self.threshold = yuface.detect, threshold

    def __call__(self, image: np.ndarray) -> list[Detection]:
        scores, boxes, points = self.detect(np.ascontiguousarray(image[..., ::-1]), conf=self.threshold)
        # Truncated to integers: +0.5 puts the mean back on the pixel centre.
        return [Detection(b.astype(np.float32), float(s) / 100, p.astype(np.float32).reshape(5, 2) + 0.5)
                for s, b, p in zip(scores, boxes, points)]


class Shrunk:
    """Any detector run on the image shrunk to at most max_side pixels, boxes scaled back."""

    def __init__(self, detector, max_side: int):
        self.detector, self.max_side = detector, max_side

    def __call__(self, image: np.ndarray) -> list[Detection]:
        small, scale = shrink(image, self.max_side)
        return scaled_back(self.detector(small), scale)


@dataclass
class Candidate:
    name: str
    make: Callable[[], Callable[[np.ndarray], list[Detection]]]
    default_threshold: float  # detections scoring below it are dropped from the main table
    note: str = ""
    sweep: tuple[float, ...] = ()  # extra thresholds reported (run at the lowest)


def candidates(yunet_floor: float = 0.3) -> dict[str, Candidate]:
    return {c.name: c for c in (
        Candidate("yunet", lambda: create_detector("yunet", threshold=yunet_floor), 0.6,
                  "facepoints default; libfacedetection's YuNet (BSD-3) on ONNX Runtime", (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
        Candidate("yunet-library", lambda: Shrunk(YuNetLibrary(0.5), 640), 0.6,
                  "the same YuNet inside libfacedetection (yuface), 640 px"),
        *(Candidate(f"yunet-{side}", lambda side=side: Shrunk(create_detector("yunet", threshold=yunet_floor), side),
                    0.6, f"YuNet on the photo shrunk to {side} px at most") for side in (480, 320)),
        Candidate("blazeface-short", lambda: BlazeFace(0.5, 0), 0.5, "mediapipe 0.10.21, short-range model"),
        Candidate("blazeface-full", lambda: BlazeFace(0.5, 1), 0.5, "mediapipe 0.10.21, full-range model"),
        Candidate("dlib-hog", lambda: DlibHOG(0.0, 0), 0.0, "dlib HOG, no upsampling"),
        Candidate("dlib-hog-up1", lambda: DlibHOG(0.0, 1), 0.0, "dlib HOG, upsampled once (face_recognition default)"),
        Candidate("haar", lambda: Haar(0.0), float("-inf"), "OpenCV 4.x haarcascade_frontalface_default"),
    )}


# --------------------------------------------------------------------------------------------
# Data and matching.


@dataclass
class Photo:
    path: Path
    faces: list[np.ndarray] = field(default_factory=list)  # (68, 2) labelled points per face
    groups: list[str] = field(default_factory=list)


def load_photos(csv_path: Path, limit: int | None = None) -> list[Photo]:
    """One Photo per image file, with every labelled face of it (0-based points)."""
    samples, _ = read_landmark_csv(csv_path)
    photos: dict[Path, Photo] = {}
    for sample in samples:
        photo = photos.setdefault(sample.image, Photo(sample.image))
        photo.faces.append(np.where(sample.mask[:, None], sample.points, np.nan))
        photo.groups.append(sample.group)
    ordered = sorted(photos.values(), key=lambda p: p.path.name)
    return ordered[:limit] if limit else ordered


def landmark_box(points: np.ndarray) -> np.ndarray:
    """x0, y0, x1, y1 of the labelled points."""
    return np.concatenate([np.nanmin(points, 0), np.nanmax(points, 0)])


def box_size(x0y0x1y1: np.ndarray) -> float:
    return float(np.sqrt(max(x0y0x1y1[2] - x0y0x1y1[0], 1e-6) * max(x0y0x1y1[3] - x0y0x1y1[1], 1e-6)))


def match_detections(boxes: list[np.ndarray], faces: list[np.ndarray]) -> list[int]:
    """For each labelled face, the index of its matched detection box (xywh) or -1.

    A pair qualifies when the box centre lies inside the face's landmark box and the box's size
    is within SIZE_RANGE of the landmark box's; pairs are taken nearest centre first, one-to-one."""
    pairs = []
    for f, points in enumerate(faces):
        gt = landmark_box(points)
        gt_centre, gt_size = (gt[:2] + gt[2:]) / 2, box_size(gt)
        for d, (x, y, w, h) in enumerate(boxes):
            centre = np.array([x + w / 2, y + h / 2])
            ratio = np.sqrt(max(w * h, 0)) / gt_size
            inside = gt[0] <= centre[0] <= gt[2] and gt[1] <= centre[1] <= gt[3]
            if inside and SIZE_RANGE[0] <= ratio <= SIZE_RANGE[1]:
                pairs.append((float(np.linalg.norm(centre - gt_centre) / gt_size), f, d))
    matched, used = [-1] * len(faces), set()
    for _, f, d in sorted(pairs):
        if matched[f] < 0 and d not in used:
            matched[f] = d
            used.add(d)
    return matched


def detection_scores(per_photo: list[list[Detection]], photos: list[Photo], threshold: float) -> dict:
    """Recall and false detections of a detector's recorded output at a score threshold."""
    faces = found = false = 0
    ratios = []
    for detections, photo in zip(per_photo, photos):
        kept = [d for d in detections if d.score >= threshold]
        matched = match_detections([d.box for d in kept], photo.faces)
        faces += len(photo.faces)
        found += sum(m >= 0 for m in matched)
        false += len(kept) - sum(m >= 0 for m in matched)
        for m, points in zip(matched, photo.faces):
            if m >= 0:
                ratios.append(np.sqrt(kept[m].box[2] * kept[m].box[3]) / box_size(landmark_box(points)))
    return {
        "faces": faces, "found": found, "recall": found / max(faces, 1),
        "false_detections": false, "false_per_photo": false / max(len(photos), 1),
        "photos_with_false": sum(
            1 for detections, photo in zip(per_photo, photos)
            if sum(d.score >= threshold for d in detections) > sum(m >= 0 for m in match_detections(
                [d.box for d in detections if d.score >= threshold], photo.faces))),
        "median_size_ratio": float(np.median(ratios)) if ratios else float("nan"),
    }


# --------------------------------------------------------------------------------------------
# The run.


def run_detectors(chosen: dict[str, Candidate], photos: list[Photo], progress: str = "") -> dict:
    """Every detector on every photo, interleaved; per detector its detections and times."""
    detectors, skipped = {}, {}
    for name, candidate in chosen.items():
        try:
            detectors[name] = candidate.make()
        except Exception as error:  # a peer that is not installed is reported, not fatal
            skipped[name] = f"{type(error).__name__}: {error}"
            print(f"  skipping {name}: {skipped[name]}", file=sys.stderr)
    outputs = {name: [] for name in detectors}
    seconds = {name: 0.0 for name in detectors}
    images = [read_image(p.path) for p in photos[:1]]
    for detector in detectors.values():  # warm-up (graph building, lazy allocation)
        detector(images[0])
    for i, photo in enumerate(photos):
        image = read_image(photo.path)
        for name, detector in detectors.items():
            started = time.perf_counter()
            detections = detector(image)
            seconds[name] += time.perf_counter() - started
            outputs[name].append(detections)
        if progress and (i + 1) % 500 == 0:
            print(f"  {progress}: {i + 1}/{len(photos)}", file=sys.stderr)
    return {"outputs": outputs, "ms_per_photo": {n: 1000 * s / max(len(photos), 1) for n, s in seconds.items()},
            "skipped": skipped}


def evaluate_set(chosen: dict[str, Candidate], photos: list[Photo], label: str) -> dict:
    run = run_detectors(chosen, photos, label)
    rows = {}
    for name, per_photo in run["outputs"].items():
        candidate = chosen[name]
        row = detection_scores(per_photo, photos, candidate.default_threshold)
        row.update(ms_per_photo=run["ms_per_photo"][name], threshold=candidate.default_threshold, note=candidate.note)
        if candidate.sweep:
            row["sweep"] = {f"{t:g}": detection_scores(per_photo, photos, t) for t in candidate.sweep}
        rows[name] = row
    return {"photos": len(photos), "faces": sum(len(p.faces) for p in photos), "detectors": rows,
            "skipped": run["skipped"]}


def markdown(results: dict) -> str:
    lines = []
    for label, result in results["sets"].items():
        lines += [f"### {label}: {result['photos']} photos, {result['faces']} labelled faces", "",
                  "| detector | recall | found | false detections | per photo | photos with a false one "
                  "| median box/landmark size | ms per photo |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, row in result["detectors"].items():
            lines.append(
                f"| {name} | {row['recall']:.3f} | {row['found']}/{row['faces']} | {row['false_detections']} "
                f"| {row['false_per_photo']:.3f} | {row['photos_with_false']} | {row['median_size_ratio']:.2f} "
                f"| {row['ms_per_photo']:.1f} |")
        for name, reason in result["skipped"].items():
            lines.append(f"| {name} | not run: {reason} | | | | | | |")
        for name, row in result["detectors"].items():
            if "sweep" in row:
                lines += ["", f"{name} by score threshold:", "",
                          "| threshold | recall | false detections | per photo |", "|---|---|---|---|"]
                for t, s in row["sweep"].items():
                    lines.append(f"| {t} | {s['recall']:.3f} | {s['false_detections']} | {s['false_per_photo']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def versions() -> dict:
    found = {"opencv": cv2.__version__, "numpy": np.__version__, "threads": THREADS, "cpus": os.cpu_count()}
    for module in ("yuface", "mediapipe", "dlib"):
        try:
            found[module] = getattr(__import__(module), "__version__", "?")
        except Exception:
            found[module] = None
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    parser.add_argument("--out", type=Path, default=Path("runs/detectors"))
    parser.add_argument("--detectors", default=",".join(candidates()), help="comma-separated subset")
    parser.add_argument("--sets", default="faces68,w300-photos", help="faces68 (frames), w300-photos (AFW)")
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set (smoke tests)")
    args = parser.parse_args()

    everything = candidates()
    chosen = {n: everything[n] for n in args.detectors.split(",")}
    paths = {"faces68": args.data / "faces68" / "keypoints.csv",
             "w300-photos": args.data / "w300" / "photos" / "keypoints.csv"}
    results = {"versions": versions(), "size_range": SIZE_RANGE, "sets": {}}
    for label in args.sets.split(","):
        photos = load_photos(paths[label], args.limit)
        print(f"{label}: {len(photos)} photos", file=sys.stderr)
        results["sets"][label] = evaluate_set(chosen, photos, label)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "detectors.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (args.out / "detectors.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
