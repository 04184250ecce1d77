"""Keypoints on held-out photo faces: facepoints beside every peer that runs offline, in one run.

    python benchmarks/photo_keypoints.py --data ../shared/data --model runs/photo/model.onnx \\
        --split runs/photo/split.json --out runs/photo_keypoints

Methods (``--methods``, comma-separated):

- ``facepoints``: ``FaceKeypointer`` (YuNet -> framing -> ``--model`` -> ``--refine`` passes).
- ``dlib`` / ``dlib-up0``: dlib's HOG detector (upsampled once, as face_recognition does; or not
  at all) + ``shape_predictor_68_face_landmarks.dat`` from face_recognition_models.
- ``mediapipe``: MediaPipe 0.10.21's legacy FaceMesh (static images, refine_landmarks=True:
  478 points) mapped to iBUG-68 by MP_TO_IBUG68 below.

Scoring. Each labelled face is matched to the predicted face whose points' centroid lies inside
the face's landmark bounding box (nearest centroid if several); a face with no such prediction
is "missed". NME = mean point distance / distance of the outer eye corners 36-45 of the labels
(as MMPose computes it for 300-W), averaged over the faces found; failure = share of found faces
with NME > 0.08. When ``--model`` gives another scheme than ibug68 (the bundled fkd15 model, until
a 68-point one exists), every method is also scored on that scheme's points (labels and peers'
68 points converted with facepoints.schemes.convert_points) with that scheme's normalising pair
(fkd15: eye centres), so all methods stand on the same points.

Held-out faces: ``--split run/split.json`` reads ``{"val_groups": [...]}`` and scores only faces
whose group is listed there (``parse_group_key``: ``faces68...:<identity>``,
``w300...:<source photo>``, or bare groups from a one-set run).

Speed, 2 threads (ONNX Runtime and OpenCV set to 2, OMP_NUM_THREADS=2; dlib runs on one thread,
MediaPipe's XNNPACK takes what it takes): the methods take turns on every image so that load from
other processes falls on all of them alike.
- ms per face, keypoint model alone: facepoints = one ONNX Runtime call on one ready crop (x the
  passes it makes per face); dlib = shape_predictor on a ready box; MediaPipe = FaceMesh in video
  mode fed the same frame again, where it tracks the face and skips its detector (the closest
  the legacy API comes to the landmark model alone; graph overhead included).
- ms per photo end to end (decoded RGB in, points out): on the scored faces68 frames, and on
  real w300 photos centre-cropped to 4:3 and resized to 640x480, and resized to 1024 px on the
  longer side.
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("FACEPOINTS_BENCH_THREADS", "2"))
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, str(THREADS))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see benchmarks/detectors.py
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from facepoints.crop import crop_face, framing_transform  # noqa: E402
from facepoints.data.landmarks import LandmarkSample, read_landmark_csv  # noqa: E402
from facepoints.evaluation import FAILURE_NME, NORMALISING_PAIRS, ced_curve, per_image_nme  # noqa: E402
from facepoints.imageio import read_image  # noqa: E402
from facepoints.inference import FaceKeypointer  # noqa: E402
from facepoints.plots import ced_plot  # noqa: E402
from facepoints.schemes import convert_points, get_scheme  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detectors import detection_scores, load_photos, versions  # noqa: E402

cv2.setNumThreads(THREADS)

# MediaPipe FaceMesh vertex -> iBUG/300-W 68 points: each 68-point is the mean of the listed
# mesh vertices. Source: Peizhi Yan's Mediapipe_2_Dlib_Landmarks (github.com/PeizhiYan/
# Mediapipe_2_Dlib_Landmarks, mp2dlib.py, 2024-09; the mapping pointed to in MediaPipe issue
# #4490), checked here by drawing it on labelled faces (--draw-mapping). The lists are facts
# about two point sets, restated here; the mesh's indices < 468 are the same with or without
# refine_landmarks (which appends the 10 iris points 468-477).
MP_TO_IBUG68: tuple[tuple[int, ...], ...] = (
    # jaw 0-16, from the image's left (subject's right ear) to the other ear
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    # brows 17-21 (image left), 22-26
    (70,), (63,), (105,), (66,), (107,),
    (336,), (296,), (334,), (293,), (300,),
    # nose bridge 27-30, nostrils 31-35
    (168, 6), (197, 195), (5,), (4,), (75,), (97,), (2,), (326,), (305,),
    # eye on the image's left 36-41 (36 outer corner), other eye 42-47 (45 outer corner)
    (33,), (160,), (158,), (133,), (153,), (144,),
    (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lip 48-59 (48, 54 corners), inner lip 60-67
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)
assert len(MP_TO_IBUG68) == 68


def mediapipe_to_ibug68(mesh: np.ndarray) -> np.ndarray:
    """(468 or 478, 2) mesh points -> (68, 2) iBUG points."""
    return np.stack([mesh[list(members)].mean(0) for members in MP_TO_IBUG68]).astype(np.float32)


def parse_group_key(key: str) -> tuple[str | None, str]:
    """(set, group) of a group named in a run's split.json.

    Training on several sets prefixes each group with its data file's stem
    (facepoints.data.keypoint_set.concatenate: ``faces68:Valerie_Harper``,
    ``w300:afw_1051618982``); the set is the one whose name starts that stem. A run on
    one set leaves its groups bare: set None, matched against every set here."""
    prefix, colon, group = key.partition(":")
    if not colon:
        return None, key
    return next((name for name in SETS if prefix.startswith(name)), prefix), group


# --------------------------------------------------------------------------------------------
# Methods: each maps an RGB image to a list of Found faces.


@dataclass
class Found:
    points: np.ndarray  # (K, 2) in the method's scheme, 0-based pixel centres
    box: np.ndarray  # (4,) x, y, w, h: the face box the method gives (for multi-face matching)


class FacepointsMethod:
    def __init__(self, model: str, detector: str, threshold: float, refine: int, spin: bool = False,
                 detect_size: int | None = None, flip_test: bool = True):
        self.keypointer = FaceKeypointer(model, detector=detector, threshold=threshold, refine=refine, threads=THREADS,
                                         detect_size=detect_size, flip_test=flip_test)
        if spin:
            # facepoints' sessions keep idle threads from spinning (on shared cores spinning made
            # the model several times slower); this gives the keypoint model ONNX Runtime's default.
            import onnxruntime as ort

            model = self.keypointer.model
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
            model.session = ort.InferenceSession(str(model.path), options, providers=["CPUExecutionProvider"])
        self.scheme = self.keypointer.model.scheme.name
        self.passes = 1 + refine

    def __call__(self, image: np.ndarray) -> list[Found]:
        return [Found(f.keypoints, np.asarray(f.box, np.float32)) for f in self.keypointer(image)]

    def model_ms(self, image: np.ndarray, found: Found, repeats: int) -> float:
        """One model call on one ready crop, in ms, times the passes made per face."""
        model = self.keypointer.model
        points, _ = convert_points(found.points, np.ones(len(found.points), bool), self.scheme, "celeba5")
        matrix = framing_transform(points[: model.framing.num_reference], model.framing)
        source = image if model.channels == 3 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        crop = crop_face(source, matrix, model.framing.size)[None]
        model.predict(crop)
        started = time.perf_counter()
        for _ in range(repeats):
            model.predict(crop)
        return 1000 * (time.perf_counter() - started) / repeats * self.passes


class DlibMethod:
    scheme = "ibug68"

    def __init__(self, upsample: int = 1):
        import dlib
        import face_recognition_models

        self.dlib, self.upsample = dlib, upsample
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())

    def __call__(self, image: np.ndarray) -> list[Found]:
        found = []
        for rect in self.detector(image, self.upsample):
            shape = self.predictor(image, rect)
            points = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
            found.append(Found(points, np.array([rect.left(), rect.top(), rect.width(), rect.height()], np.float32)))
        return found

    def model_ms(self, image: np.ndarray, found: Found, repeats: int) -> float:
        x, y, w, h = (int(round(v)) for v in found.box)
        rect = self.dlib.rectangle(x, y, x + w, y + h)
        self.predictor(image, rect)
        started = time.perf_counter()
        for _ in range(repeats):
            self.predictor(image, rect)
        return 1000 * (time.perf_counter() - started) / repeats


class MediaPipeMethod:
    scheme = "ibug68"

    def __init__(self, max_faces: int = 5, refine_landmarks: bool = True):
        import mediapipe as mp

        self.mp, self.max_faces, self.refine = mp, max_faces, refine_landmarks
        self.mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=max_faces, refine_landmarks=refine_landmarks)
        self._tracker = None

    def _points(self, result, width: int, height: int) -> list[np.ndarray]:
        # Normalised coordinates count pixel edges (0 = the image's left edge): x * W - 0.5 is
        # the 0-based pixel-centre coordinate.
        return [np.array([[p.x * width - 0.5, p.y * height - 0.5] for p in face.landmark], np.float32)
                for face in result.multi_face_landmarks or ()]

    def __call__(self, image: np.ndarray) -> list[Found]:
        height, width = image.shape[:2]
        meshes = self._points(self.mesh.process(np.ascontiguousarray(image)), width, height)
        found = []
        for mesh in meshes:
            low, high = mesh.min(0), mesh.max(0)
            found.append(Found(mediapipe_to_ibug68(mesh), np.concatenate([low, high - low])))
        return found

    def model_ms(self, image: np.ndarray, found: Found, repeats: int) -> float:
        if self._tracker is None:
            self._tracker = self.mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False, max_num_faces=1, refine_landmarks=self.refine)
        image = np.ascontiguousarray(image)
        for _ in range(2):  # detect, then settle on tracking this face
            self._tracker.process(image)
        started = time.perf_counter()
        for _ in range(repeats):
            self._tracker.process(image)
        return 1000 * (time.perf_counter() - started) / repeats


def model_label(model: str) -> str:
    """A bundled name as it is; a run folder or its model.onnx by the folder's name."""
    path = Path(model)
    return path.parent.name if path.suffix == ".onnx" and path.name == "model.onnx" else path.stem


def facepoints_labels(models: list[str], sizes: list[int | None],
                      flips: list[bool] = (True,)) -> dict[str, tuple[str, int | None, bool]]:
    """Method label -> (model, detector size, flip test): plain ``facepoints`` for one setting,
    else ``facepoints:<label>`` per model, with ``@<size>`` when several sizes run and
    ``/no-flip`` for runs without flip test."""
    if len(models) == 1 and len(sizes) == 1 and list(flips) == [True]:
        return {"facepoints": (models[0], sizes[0], True)}
    labels = {f"facepoints:{model_label(model)}" + (f"@{size}" if len(sizes) > 1 else "") + ("" if flip else "/no-flip"):
              (model, size, flip) for model in models for size in sizes for flip in flips}
    if len(labels) < len(models) * len(sizes) * len(flips):
        raise SystemExit(f"--model: two of {', '.join(models)} would share a label; give them distinct names")
    return labels


def make_methods(names: list[str], args) -> tuple[dict, dict]:
    """Each method by its label; one that cannot be made (a peer not installed, a model that does
    not load) is reported under its label, not fatal."""
    builders = {}
    for name in names:
        if name == "facepoints":
            for label, (model, size, flip) in facepoints_labels(args.model, args.detect_size, args.flip_test).items():
                builders[label] = lambda model=model, size=size, flip=flip: FacepointsMethod(
                    model, args.detector, args.threshold, args.refine, args.spin, size, flip)
        elif name == "dlib":
            builders[name] = lambda: DlibMethod(upsample=1)
        elif name == "dlib-up0":
            builders[name] = lambda: DlibMethod(upsample=0)
        elif name == "mediapipe":
            builders[name] = lambda: MediaPipeMethod(max_faces=args.max_faces)
        else:
            raise SystemExit(f"--methods: unknown method {name!r}")
    made, failed = {}, {}
    for label, build in builders.items():
        try:
            made[label] = build()
        except Exception as error:
            failed[label] = f"{type(error).__name__}: {error}"
            print(f"  skipping {label}: {failed[label]}", file=sys.stderr)
    return made, failed


# --------------------------------------------------------------------------------------------
# Data.


SETS = {"faces68": "faces68/keypoints.csv", "w300": "w300/faces/keypoints.csv"}


def load_faces(data: Path, split: Path | None) -> dict[str, list[LandmarkSample]]:
    """Per set, the faces to score: every face, or those of the groups the split holds out."""
    sets = {name: read_landmark_csv(data / relative)[0] for name, relative in SETS.items()}
    if split is None:
        return sets
    listed = {parse_group_key(str(key)) for key in json.loads(split.read_text()).get("val_groups") or ()}
    chosen = {name: [s for s in samples if (name, s.group) in listed or (None, s.group) in listed]
              for name, samples in sets.items()}
    print(f"{split}: " + ", ".join(f"{len(v)} {k} faces" for k, v in chosen.items()), file=sys.stderr)
    if not any(chosen.values()):
        example = next(iter(sorted(listed, key=str)), "nothing")
        raise SystemExit(f"{split}: none of its val_groups (e.g. {example}) names a face of {', '.join(SETS)}")
    return chosen


# --------------------------------------------------------------------------------------------
# Scoring.


def match_face(found: list[Found], target: np.ndarray, scheme: str) -> int:
    """Index of the predicted face whose points' centroid lies in the target's landmark box."""
    low, high = np.nanmin(target, 0), np.nanmax(target, 0)
    centre = (low + high) / 2
    best, best_distance = -1, np.inf
    for i, face in enumerate(found):
        centroid = face.points.mean(0)
        if np.all(centroid >= low) and np.all(centroid <= high):
            distance = float(np.linalg.norm(centroid - centre))
            if distance < best_distance:
                best, best_distance = i, distance
    return best


def to_scheme(points: np.ndarray, source: str, target: str) -> np.ndarray:
    if source == target:
        return points
    return convert_points(points, np.ones(len(points), bool), source, target)[0]


def summarise(nme: np.ndarray, faces: int) -> dict:
    found = np.isfinite(nme)
    values = nme[found]
    return {
        "faces": faces, "found": int(found.sum()), "found_rate": float(found.mean()) if faces else float("nan"),
        "nme": float(values.mean()) if values.size else float("nan"),
        "median_nme": float(np.median(values)) if values.size else float("nan"),
        "failure_rate": float((values > FAILURE_NME).mean()) if values.size else float("nan"),
    }


def evaluate_set(methods: dict, samples: list[LandmarkSample], eval_scheme: str, label: str) -> dict:
    """Every method end to end on every face's image (interleaved); NME per face; time per image."""
    n = len(samples)
    nme = {name: np.full(n, np.nan) for name in methods}
    # The 68-point methods' own iBUG-68 score, where the common scheme is another one.
    nme68 = {name: np.full(n, np.nan) for name in methods
             if methods[name].scheme == "ibug68" and eval_scheme != "ibug68"}
    offsets = {name: [] for name in methods}
    seconds = {name: 0.0 for name in methods}
    keep = {name: [] for name in methods}  # (sample index, Found) for model-only timing
    target_scheme = get_scheme(eval_scheme)
    for i, sample in enumerate(samples):
        image = read_image(sample.image)
        target68 = sample.points
        target = to_scheme(target68, "ibug68", eval_scheme)[None]
        mask = np.ones(target.shape[:2], bool)
        for name, method in methods.items():
            started = time.perf_counter()
            found = method(image)
            seconds[name] += time.perf_counter() - started
            m = match_face(found, target68, method.scheme)
            if m < 0:
                continue
            pred = to_scheme(found[m].points, method.scheme, eval_scheme)[None]
            nme[name][i] = per_image_nme(pred, target, mask, target_scheme)[0]
            offsets[name].append((pred - target)[0].mean(0))
            if name in nme68:
                nme68[name][i] = per_image_nme(found[m].points[None], target68[None], np.ones((1, 68), bool),
                                               get_scheme("ibug68"))[0]
            if len(keep[name]) < 100 and i % 7 == 0:
                keep[name].append((i, found[m]))
        if (i + 1) % 500 == 0:
            print(f"  {label}: {i + 1}/{n}", file=sys.stderr)
    result = {}
    for name in methods:
        row = summarise(nme[name], n)
        if name in nme68:
            row["ibug68"] = summarise(nme68[name], n)
        row["mean_offset_px"] = np.mean(offsets[name], 0).round(3).tolist() if offsets[name] else None
        row["ms_per_photo"] = 1000 * seconds[name] / max(n, 1)
        result[name] = row
    return {"rows": result, "nme": nme, "nme68": nme68, "keep": keep}


def multi_face(methods: dict, data: Path) -> dict:
    """Recall and false detections on the whole AFW photos (all faces, split or not)."""
    photos = load_photos(data / "w300" / "photos" / "keypoints.csv")
    outputs = {name: [] for name in methods}
    for photo in photos:
        image = read_image(photo.path)
        for name, method in methods.items():
            outputs[name].append([_as_detection(f) for f in method(image)])
    return {name: detection_scores(per_photo, photos, float("-inf")) for name, per_photo in outputs.items()}


def _as_detection(found: Found):
    from facepoints.detectors import Detection

    return Detection(found.box, 1.0)


# --------------------------------------------------------------------------------------------
# Speed.


def photo_sizes(data: Path, count: int) -> dict[str, list[np.ndarray]]:
    """Real AFW photos as 640x480 (centre-cropped to 4:3) and as 1024 px on the longer side."""
    photos = load_photos(data / "w300" / "photos" / "keypoints.csv")[:count]
    vga, large = [], []
    for photo in photos:
        image = read_image(photo.path)
        h, w = image.shape[:2]
        if w * 3 >= h * 4:
            cw, ch = h * 4 // 3, h
        else:
            cw, ch = w, w * 3 // 4
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        vga.append(cv2.resize(image[y0 : y0 + ch, x0 : x0 + cw], (640, 480), interpolation=cv2.INTER_AREA))
        scale = 1024 / max(h, w)
        large.append(cv2.resize(image, (round(w * scale), round(h * scale)),
                                interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR))
    return {"640x480": vga, "1024px": large}


def time_photos(methods: dict, images: list[np.ndarray]) -> dict:
    seconds = {name: 0.0 for name in methods}
    faces = {name: 0 for name in methods}
    for method in methods.values():
        method(images[0])  # warm-up
    for image in images:
        for name, method in methods.items():
            started = time.perf_counter()
            found = method(image)
            seconds[name] += time.perf_counter() - started
            faces[name] += len(found)
    return {name: {"ms_per_photo": 1000 * seconds[name] / len(images), "faces_per_photo": faces[name] / len(images)}
            for name in methods}


def time_models(methods: dict, samples: list[LandmarkSample], keep: dict, repeats: int) -> dict:
    """ms per face for each method's keypoint model alone, on faces it found (up to 100 each)."""
    result = {}
    for name, method in methods.items():
        times = [method.model_ms(read_image(samples[i].image), found, repeats) for i, found in keep[name]]
        result[name] = float(np.median(times)) if times else float("nan")
    return result


# --------------------------------------------------------------------------------------------
# Output.


def markdown(results: dict) -> str:
    eval_scheme = results["eval_scheme"]
    a, b = NORMALISING_PAIRS[eval_scheme]
    lines = [f"Scored on scheme {eval_scheme} (NME normalised by points {a}-{b} of the labels); "
             f"failure = NME > {FAILURE_NME}.", ""]
    for label, result in results["sets"].items():
        lines += [f"### {label}: {result['faces']} faces", "",
                  "| method | found | NME | median NME | failure | iBUG-68 NME (36-45) | iBUG-68 failure "
                  "| ms per photo (this set) |", "|---|---|---|---|---|---|---|---|"]
        for name, row in result["rows"].items():
            i68 = row.get("ibug68")
            i68_cells = f"{i68['nme']:.4f} | {i68['failure_rate']:.3f}" if i68 else "- | -"
            lines.append(
                f"| {name} | {row['found_rate']:.3f} ({row['found']}/{row['faces']}) | {row['nme']:.4f} "
                f"| {row['median_nme']:.4f} | {row['failure_rate']:.3f} | {i68_cells} | {row['ms_per_photo']:.1f} |")
        lines.append("")
    speed = results["speed"]
    names = list(speed["model_ms_per_face"])
    lines += ["### Speed (ms, 2 threads)", "", "| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|",
              "| keypoint model alone, per face | " + " | ".join(f"{speed['model_ms_per_face'][n]:.2f}" for n in names) + " |"]
    if "faces68" in results["sets"]:
        lines.append("| end to end, per faces68 frame | " + " | ".join(
            f"{results['sets']['faces68']['rows'][n]['ms_per_photo']:.1f}" for n in names) + " |")
    for size, rows in speed["photos"].items():
        lines.append(f"| end to end, per {size} photo (faces found per photo) | " + " | ".join(
            f"{rows[n]['ms_per_photo']:.1f} ({rows[n]['faces_per_photo']:.2f})" for n in names) + " |")
    if results.get("multi_face"):
        lines += ["", f"### Multi-face: w300/photos (AFW), {results['multi_face_photos']} photos", "",
                  "| method | recall | found | false detections | per photo |", "|---|---|---|---|---|"]
        for name, row in results["multi_face"].items():
            lines.append(f"| {name} | {row['recall']:.3f} | {row['found']}/{row['faces']} | {row['false_detections']} "
                         f"| {row['false_per_photo']:.3f} |")
    if results["failed"]:
        lines += ["", "Not run: " + "; ".join(f"{k}: {v}" for k, v in results["failed"].items())]
    return "\n".join(lines) + "\n"


def draw_mapping(samples: list[LandmarkSample], path: Path, count: int = 4) -> None:
    """Labelled 68 points (green) beside MediaPipe's mesh mapped to 68 (red), numbered, to check
    MP_TO_IBUG68 by eye."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    method = MediaPipeMethod(max_faces=1)
    picked = [s for s in samples[:: max(1, len(samples) // (4 * count))]][: 4 * count]
    shown = 0
    fig, axes = plt.subplots(1, count, figsize=(6 * count, 6.4))
    for sample in picked:
        if shown == count:
            break
        image = read_image(sample.image)
        found = method(image)
        m = match_face(found, sample.points, "ibug68")
        if m < 0:
            continue
        ax = axes[shown]
        shown += 1
        low, high = sample.points.min(0), sample.points.max(0)
        pad = 0.15 * (high - low)
        ax.imshow(image)
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(high[1] + pad[1], low[1] - pad[1])
        ax.scatter(*sample.points.T, s=14, c="lime", label="labels")
        ax.scatter(*found[m].points.T, s=14, c="red", marker="x", label="MediaPipe -> 68")
        for a, b in zip(sample.points, found[m].points):
            ax.plot([a[0], b[0]], [a[1], b[1]], c="white", lw=0.6)
        for k, (x, y) in enumerate(found[m].points):
            ax.text(x, y, str(k), fontsize=7, color="yellow")
        ax.set_title(sample.name, fontsize=7)
        ax.axis("off")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", action="append",
                        help="model.onnx, run folder or bundled name (default fkd15); repeat to run several "
                             "models side by side, each as method facepoints:<name>")
    parser.add_argument("--split", type=Path, default=None, help="split.json of the models' run: score its val_groups")
    parser.add_argument("--out", type=Path, default=Path("runs/photo_keypoints"))
    parser.add_argument("--methods", default="facepoints,dlib,dlib-up0,mediapipe")
    parser.add_argument("--sets", default="faces68,w300")
    parser.add_argument("--detector", default="yunet")
    parser.add_argument("--threshold", type=float, default=0.6, help="facepoints' detector score threshold")
    parser.add_argument("--detect-size", type=int, action="append",
                        help="longer side facepoints' detector sees (default: the detector's, 640); repeat to run "
                             "each model at several sizes, as facepoints:<name>@<size>")
    parser.add_argument("--flip-test", choices=["on", "off"], action="append",
                        help="facepoints' test-time flip (default on); repeat to run both, as .../no-flip")
    parser.add_argument("--refine", type=int, default=1)
    parser.add_argument("--max-faces", type=int, default=5, help="MediaPipe FaceMesh max_num_faces")
    parser.add_argument("--limit", type=int, default=None, help="first N faces of each set (smoke tests)")
    parser.add_argument("--speed-photos", type=int, default=60, help="AFW photos timed at 640x480 and 1024 px")
    parser.add_argument("--model-repeats", type=int, default=20)
    parser.add_argument("--no-multi-face", action="store_true")
    parser.add_argument("--spin", action="store_true",
                        help="give the keypoint model ONNX Runtime's default, spinning thread pool; facepoints' "
                             "sessions do not spin, as OMP_WAIT_POLICY=PASSIVE does not, because spinning threads "
                             "collapse on shared cores")
    parser.add_argument("--draw-mapping", action="store_true", help="also draw MediaPipe->68 on labelled faces")
    args = parser.parse_args()
    args.model = args.model or ["fkd15"]
    args.detect_size = args.detect_size or [None]
    args.flip_test = [choice == "on" for choice in dict.fromkeys(args.flip_test or ["on"])]

    methods, failed = make_methods(args.methods.split(","), args)
    schemes = {m.scheme for m in methods.values()}
    eval_scheme = "ibug68" if schemes <= {"ibug68"} else next(s for s in schemes if s != "ibug68")
    faces = load_faces(args.data, args.split)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"versions": versions(), "model": args.model, "detect_size": args.detect_size, "flip_test": args.flip_test, "split": str(args.split) if args.split else None,
               "eval_scheme": eval_scheme, "threshold": args.threshold, "refine": args.refine, "ort_spinning": args.spin,
               "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
               "failed": failed, "sets": {}, "speed": {}}
    keep_for_timing = None
    for label in args.sets.split(","):
        samples = faces[label][: args.limit] if args.limit else faces[label]
        print(f"{label}: {len(samples)} faces", file=sys.stderr)
        evaluated = evaluate_set(methods, samples, eval_scheme, label)
        results["sets"][label] = {"faces": len(samples), "rows": evaluated["rows"]}
        curves = {name: ced_curve(v) for name, v in evaluated["nme"].items()}
        ced_plot(curves, args.out / f"ced_{label}.png")
        if eval_scheme != "ibug68" and evaluated["nme68"]:
            ced_plot({name: ced_curve(v) for name, v in evaluated["nme68"].items()}, args.out / f"ced_{label}_ibug68.png")
        np.savez_compressed(args.out / f"nme_{label}.npz", names=np.array([s.name for s in samples]),
                            **{f"nme_{k}": v for k, v in evaluated["nme"].items()},
                            **{f"nme68_{k}": v for k, v in evaluated["nme68"].items()})
        if keep_for_timing is None:
            keep_for_timing = (samples, evaluated["keep"])
        if args.draw_mapping and label == args.sets.split(",")[0] and "mediapipe" in methods:
            draw_mapping(samples, args.out / "mediapipe_mapping_check.png")

    print("timing", file=sys.stderr)
    results["speed"]["model_ms_per_face"] = time_models(methods, *keep_for_timing, args.model_repeats)
    results["speed"]["photos"] = {size: time_photos(methods, images)
                                  for size, images in photo_sizes(args.data, args.speed_photos).items()}
    if not args.no_multi_face:
        print("multi-face", file=sys.stderr)
        results["multi_face"] = multi_face(methods, args.data)
        results["multi_face_photos"] = len(load_photos(args.data / "w300" / "photos" / "keypoints.csv"))
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (args.out / "table.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
