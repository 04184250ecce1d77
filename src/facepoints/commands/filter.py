"""`facepoints filter`: sunglasses, moustache, hat or the keypoints on every face of photos,
video files or the webcam."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from facepoints.commands.console import errors, image_progress
from facepoints.commands.options import DETECT_SIZE, FLIP_TEST, THRESHOLD, model_option
from facepoints.errors import DataError, FacepointsError
from facepoints.options import KeypointerOptions


class FramesPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:.1f} fps", style="progress.data.speed")


def filter_faces(
    name: str = typer.Argument(..., help="sunglasses, moustache, hat, keypoints, or your picture's anchor file (.json)."),
    source: Optional[Path] = typer.Argument(None, metavar="INPUT", help="An image, a folder of images, or a video file."),
    out: Optional[Path] = typer.Option(None, help="Output image, folder or video (default: beside the input, "
                                       "named after the filter; for --webcam a recording, else a live window)."),
    webcam: Optional[int] = typer.Option(None, "--webcam", metavar="[N]", help="Live camera N (default 0) instead of INPUT."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every face's keypoints (per frame for video)."),
    detect_every: int = typer.Option(5, min=1, help="Video: run the face detector every N frames; follow faces in between."),
    smooth: bool = typer.Option(True, help="Video: smooth keypoints over time (One Euro filter)."),
    min_confidence: float = typer.Option(0.0, min=0.0, max=1.0, help="Leave out keypoints (keypoints filter) or faces "
                                         "(pictures, by their mean) less sure than this (0-1; needs flip test)."),
    # ibug68-fast: on video more frames a second and less jitter than ibug68, for slightly higher NME (docs/benchmarks.md).
    model: str = model_option("ibug68-fast", help="Keypoint model: bundled name (ibug68-fast; ibug68, a little more accurate on photos; ibug68-tiny, faster), model.onnx or run folder."),
    threshold: float = THRESHOLD,
    detect_size: int = DETECT_SIZE,
    flip_test: bool = FLIP_TEST,
):
    """Put a filter on every face. Exit 0: all inputs read; 1: some failed; 2: usage error."""
    from facepoints.batch import IMAGE_SUFFIXES, collect_inputs, photo_workers
    from facepoints.fileio import check_outputs
    from facepoints.filters import load_filter
    from facepoints.inference import FaceKeypointer
    from facepoints.video import VIDEO_SUFFIXES

    if (source is None) == (webcam is None):
        raise typer.BadParameter("give INPUT or --webcam, not both")
    try:
        effect = load_filter(name, min_confidence)
    except FacepointsError as e:
        if Path(name).suffix.lower() == ".json":  # the user's own picture: bad input, not usage
            raise
        raise typer.BadParameter(str(e), param_hint="NAME") from None
    label = Path(name).stem
    if source is not None:
        if not source.exists():
            raise DataError(source, "input not found")
        source = source.resolve()  # `.` and `..` have names to build the default output from
    photos = collect_inputs([str(source)]) if source is not None and source.is_dir() else []
    inputs = [*([Path(name)] if Path(name).suffix.lower() == ".json" else []), *photos, *([source] if source else [])]
    if source is None:
        check_outputs([out, json_out], inputs)
    elif source.is_dir():
        out = out or source.with_name(f"{source.name}_{label}")
        if out.resolve() == source or source in out.resolve().parents:
            raise FacepointsError(f"{out}: the output folder must not be the input folder or inside it")
        check_outputs([json_out], inputs)
    else:
        default = f"{source.stem}_{label}{source.suffix}" if source.suffix.lower() in VIDEO_SUFFIXES else f"{source.stem}_{label}.png"
        out = out or source.with_name(default)
        if source.suffix.lower() not in VIDEO_SUFFIXES and out.suffix.lower() not in IMAGE_SUFFIXES:
            raise FacepointsError(f"{out}: an image output must end in one of {', '.join(sorted(IMAGE_SUFFIXES))}")
        check_outputs([out, json_out], inputs)
    workers = photo_workers(len(photos))  # a folder's photos: one per core, one model thread each
    keypointer = FaceKeypointer(options=KeypointerOptions(model=model, threshold=threshold, detect_size=detect_size,
                                                          flip_test=flip_test, threads=1 if workers > 1 else None))
    if webcam is not None:
        return _webcam(effect, keypointer, webcam, out, json_out, detect_every, smooth)
    if source.is_dir():
        failures = _images(effect, keypointer, photos, source, out, json_out, workers)
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        failures = filter_video(effect, keypointer, source, out, json_out, detect_every, smooth)
    else:
        failures = _images(effect, keypointer, [source], source.parent, out, json_out, single=True)
    if failures:
        raise typer.Exit(1)


def _images(effect, keypointer, paths: list[Path], root: Path, out: Path, json_out: Optional[Path], workers: int = 1,
            single: bool = False) -> int:
    """Filter each image; a bad one is reported and skipped. Returns how many failed."""
    from facepoints.batch import each_image
    from facepoints.draw import encode_image
    from facepoints.fileio import write_bytes_atomic, write_text_atomic
    from facepoints.inference import image_json

    def work(path: Path, image) -> dict:
        faces = keypointer(image)
        effect(image, faces)
        target = out if single else out / path.relative_to(root)
        write_bytes_atomic(target, encode_image(image, target.suffix))
        return {**image_json(image, faces), "output": str(target)}

    with image_progress("filtering", len(paths)) as on_entry:
        results, failures = each_image(paths, work, workers, on_entry)
    if json_out is not None:
        write_text_atomic(json_out, json.dumps({"images": results}, indent=1))
    errors.print(f"{effect.name}: {len(paths) - failures} image(s) written to {out}" + (f"; {failures} failed" if failures else ""))
    return failures


def filter_video(effect, keypointer, source: Path, out: Path, json_out: Optional[Path], detect_every: int,
                 smooth: bool) -> int:
    """Every frame filtered, faces followed and smoothed; the video appears at ``out`` only when
    complete. Returns 1 when the input ended before the length it states (written up to there), else 0."""
    from facepoints.fileio import write_text_atomic
    from facepoints.video import VideoReader, video_writer

    with VideoReader(source) as reader:
        filtered = FilteredFrames(effect, keypointer, detect_every, smooth, float(reader.rate), json_out is not None)
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), FramesPerSecond(),
                   TimeRemainingColumn()]
        with video_writer(out, reader.width, reader.height, reader.rate, reader.time_base, reader.audio) as write, \
                Progress(*columns, console=errors, transient=True) as progress:
            task = progress.add_task(effect.name, total=reader.frame_count or None)
            for frame in reader:
                filtered(frame)
                write(frame)
                write.copy_audio(reader.take_audio())
                progress.advance(task)
            write.copy_audio(reader.take_audio())
            speed = progress.tasks[0].speed
            if reader.audio is not None and write.audio is None:
                errors.print(f"note: {out.suffix} cannot hold the sound ({reader.audio.codec_context.name}); "
                             "written without it", highlight=False, soft_wrap=True)
    if json_out is not None:
        write_text_atomic(json_out, json.dumps({"video": str(source), "width": reader.width, "height": reader.height,
                                                "fps": float(reader.rate), "frames": filtered.frames,
                                                "blinks": filtered.blinks.finish()}, indent=1))
    errors.print(f"{effect.name}: {filtered.count} frames written to {out}" + (f" ({speed:.1f} fps)" if speed else ""))
    short = reader.cut_short()
    if short:
        errors.print(f"{source}: {short}; the output holds the frames up to there", highlight=False, soft_wrap=True)
    return int(short is not None)


class FilteredFrames:
    """Frames of a video or a camera, in order: faces followed and smoothed, the filter drawn in
    place. Each frame's faces are kept (as JSON) only when asked for: a long video's add up."""

    def __init__(self, effect, keypointer, detect_every: int, smooth: bool, rate: float, keep_json: bool):
        from facepoints.openness import BlinkCounter
        from facepoints.tracking import FaceTracker, Smoothing

        self.effect = effect
        self.blinks = BlinkCounter()
        self.tracker = FaceTracker(keypointer, detect_every, Smoothing() if smooth else None, rate)
        self.frames: list[dict] | None = [] if keep_json else None
        self.count = 0

    def __call__(self, frame) -> None:
        tracked = self.tracker(frame.image, frame.time)
        self.effect(frame.image, [face for _, face in tracked])
        self.blinks(frame.time, {i: face.openness.eyes for i, face in tracked if face.openness is not None})
        self.count += 1
        if self.frames is not None:
            self.frames.append({"index": frame.index, "time": round(frame.time, 6),
                                "faces": [{"track": i, **face.as_dict()} for i, face in tracked]})


def _webcam(effect, keypointer, index: int, out: Optional[Path], json_out: Optional[Path], detect_every: int,
            smooth: bool) -> None:
    """Live: a window where a display exists, or a recording with --out. Ctrl-C (or q) ends it cleanly."""
    import contextlib

    from facepoints.fileio import write_text_atomic
    from facepoints.video import Webcam, Window, video_writer

    camera = Webcam(index)
    window = Window(f"facepoints {effect.name}") if out is None else None
    filtered = FilteredFrames(effect, keypointer, detect_every, smooth, float(camera.rate), json_out is not None)
    recording = video_writer(out, camera.width, camera.height, camera.rate) if out else contextlib.nullcontext(None)
    try:
        with recording as write:
            try:
                for frame in camera:
                    filtered(frame)
                    if write is not None:
                        write(frame)
                    if window is not None and not window.show(frame.image):
                        break
            except KeyboardInterrupt:  # the usual way to stop a live run: keep what was recorded
                pass
    finally:
        camera.close()
        if window is not None:
            window.close()
    if json_out is not None:
        write_text_atomic(json_out, json.dumps({"webcam": index, "frames": filtered.frames,
                                                "blinks": filtered.blinks.finish()}, indent=1))
    errors.print(f"{effect.name}: {filtered.count} webcam frames" + (f" recorded to {out}" if out else ""))
