"""Video in and out: files through PyAV (exact timestamps), the webcam through OpenCV.

Frames keep their presentation timestamps end to end, so a variable-frame-rate phone video
comes out with the same timing, and the smoothing filters see true time steps. Frames are turned
upright by the file's rotation flag (a phone's portrait video is stored on its side), so faces are
found upright and points are in the picture as players show it; the output is written upright.
The output is written under a temporary name and renamed when complete: an interrupted run
leaves nothing.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from facepoints.errors import DataError, FacepointsError
from facepoints.fileio import atomic_path
from facepoints.imageio import DEFAULT_MAX_PIXELS

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm"}
# Container and codec per output suffix; H.264 where the container expects it.
_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".avi": "avi", ".mkv": "matroska", ".webm": "webm"}
_CODECS = {".mp4": "libx264", ".m4v": "libx264", ".mov": "libx264", ".mkv": "libx264", ".avi": "mpeg4",
           ".webm": "libvpx-vp9"}


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    index: int
    time: float  # seconds from the stream's start


class VideoReader:
    """Frames of a video file, in order, with their timestamps. Frames of more than max_pixels
    pixels are refused before any is decoded, as photos are."""

    def __init__(self, path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS):
        import av

        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(self.path, "video file not found")
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, UnicodeDecodeError) as e:
            raise DataError(self.path, f"not a readable video ({e})") from None
        if not self._container.streams.video:
            self._container.close()
            raise DataError(self.path, "has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        width, height = self._stream.codec_context.width, self._stream.codec_context.height
        if width * height > max_pixels:
            self._container.close()
            raise DataError(self.path, f"too large to decode safely: {width}x{height} frames are {width * height:,} "
                                       f"pixels, more than max_pixels={max_pixels:,}")
        # Quarter turns counter-clockwise that show a stored frame as players show it.
        self.quarter_turns = _quarter_turns(self.path)
        self.width, self.height = (height, width) if self.quarter_turns % 2 else (width, height)
        self.rate: Fraction = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        self.time_base: Fraction = self._stream.time_base or Fraction(1, int(self.rate))
        self.frame_count = int(self._stream.frames or 0)  # 0 when the container does not say
        self.audio = self._container.streams.audio[0] if self._container.streams.audio else None
        self._audio_packets: list = []
        self._stated_seconds = _stated_duration(self._container, self._stream, self.rate)
        self._decoded_seconds = 0.0  # where the last frame decoded so far ends

    def __iter__(self) -> Iterator[Frame]:
        """Decoded video frames; the sound's packets, read alongside, wait in ``take_audio()``."""
        import av

        start = self._stream.start_time or 0
        count = 0
        streams = [self._stream] + ([self.audio] if self.audio is not None else [])
        try:
            for packet in self._container.demux(*streams):
                if packet.stream is not self._stream:
                    if packet.dts is not None:  # not the demuxer's end-of-stream marker
                        self._audio_packets.append(packet)
                    continue
                for frame in packet.decode():
                    count += 1
                    pts = frame.pts
                    seconds = float((pts - start) * self.time_base) if pts is not None else (count - 1) / float(self.rate)
                    image = frame.to_ndarray(format="rgb24")
                    if self.quarter_turns:
                        image = np.ascontiguousarray(np.rot90(image, self.quarter_turns))
                    self._decoded_seconds = seconds + 1 / float(self.rate)
                    yield Frame(image, count - 1, seconds)
        except av.error.FFmpegError as e:
            raise DataError(self.path, f"video broke off after {count} frames ({e})") from None
        if count == 0:
            raise DataError(self.path, "has no frames")

    def cut_short(self) -> str | None:
        """After reading: a note when the frames ended well before the length the file states. A
        file cut off mid-stream (a copy that stopped, say) decodes up to the cut without an error."""
        stated, decoded = self._stated_seconds, self._decoded_seconds
        if stated is None or stated - decoded <= max(0.5, 5 / float(self.rate)):
            return None
        return f"ended at {decoded:.1f} s of its {stated:.1f} s (cut short?)"

    def take_audio(self) -> list:
        """The sound's packets read so far and not yet taken (to copy into the output unchanged)."""
        packets, self._audio_packets = self._audio_packets, []
        return packets

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stated_duration(container, stream, rate: Fraction) -> float | None:
    """Seconds of video the file says it holds: the video stream's own duration or frame count,
    the longer (an AVI cut short estimates its duration from its size but keeps its frame count),
    else the container's, which may include a longer sound track."""
    import av

    stated = [float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0,
              stream.frames / float(rate) if stream.frames else 0.0]
    if max(stated) > 0:
        return max(stated)
    return container.duration / av.time_base if container.duration else None


def _quarter_turns(path: Path) -> int:
    """The rotation flag (display matrix) of the first video frame, in counter-clockwise quarter
    turns 0-3. PyAV reads it per frame only, so the first frame is decoded once here."""
    import av

    try:
        with av.open(str(path)) as container:
            first = next(container.decode(video=0), None)
    except av.error.FFmpegError:
        return 0  # the reader itself reports a broken stream, with the frame it broke at
    return round((first.rotation if first is not None else 0) / 90) % 4


class _Writer:
    """Encodes frames (``writer(frame)``) and copies sound packets unchanged (``copy_audio``)."""

    def __init__(self, container, stream, step: Fraction, timed: bool, audio_template=None):
        self.container, self.stream, self.step, self.timed = container, stream, step, timed
        self.audio = None
        if audio_template is not None and audio_template.codec_context.name in container.supported_codecs:
            self.audio = container.add_stream_from_template(audio_template)
        self.last = -1

    def __call__(self, frame: Frame) -> None:
        import av

        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame.image), format="rgb24")
        pts = round(frame.time / self.step) if self.timed else self.last + 1
        picture.pts = self.last = max(pts, self.last + 1)  # encoders need strictly rising timestamps
        for packet in self.stream.encode(picture):
            self.container.mux(packet)

    def copy_audio(self, packets: list) -> None:
        if self.audio is None:
            return
        for packet in packets:
            packet.stream = self.audio
            self.container.mux(packet)

    def finish(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)


@contextlib.contextmanager
def video_writer(path: str | Path, width: int, height: int, rate: Fraction, time_base: Fraction | None = None,
                 audio=None):
    """Yield a writer: ``writer(frame)`` encodes a frame, ``writer.copy_audio(packets)`` copies the
    source's sound (``audio``: its stream; left out where the container cannot hold its codec, then
    ``writer.audio`` is None). The file appears at ``path`` only once complete and closed."""
    import av

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _CONTAINERS:
        raise FacepointsError(f"{path}: unknown video type {suffix or '(none)'}; use {', '.join(sorted(_CONTAINERS))}")
    codec = _CODECS[suffix]
    with atomic_path(path) as tmp, _named(path):
        container = av.open(str(tmp), "w", format=_CONTAINERS[suffix])
        try:
            stream = container.add_stream(codec, rate=rate)
            stream.width, stream.height = width, height
            odd = width % 2 or height % 2
            stream.pix_fmt = "yuv444p" if odd and codec == "libx264" else "yuv420p"  # x264 halves even sizes only
            # Frame times carry over exactly in the source's time base; AVI (constant rate only)
            # and a live feed count frames at the rate.
            exact = time_base is not None and suffix != ".avi"
            step = time_base if exact else Fraction(1) / rate
            stream.codec_context.time_base = step
            if codec == "libx264":
                stream.options = {"crf": "20", "preset": "veryfast"}
            elif codec == "mpeg4":
                stream.options = {"qscale": "3"}
            writer = _Writer(container, stream, step, time_base is not None, audio)
            yield writer
            writer.finish()
        finally:
            container.close()


@contextlib.contextmanager
def _named(path: Path):
    """An encoder or muxer failure is one line naming the output file."""
    import av

    try:
        yield
    except av.error.FFmpegError as e:
        raise DataError(path, f"cannot be written as video ({e})") from None


class Webcam:
    """Frames from a camera through OpenCV, timestamped by the clock on arrival."""

    def __init__(self, index: int = 0):
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our one-line error says it
        self.capture = cv2.VideoCapture(index)
        if not self.capture.isOpened():
            raise FacepointsError(f"webcam {index}: cannot be opened (no camera, or it is in use)")
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.rate = Fraction(self.capture.get(cv2.CAP_PROP_FPS) or 30).limit_denominator(1001)

    def __iter__(self) -> Iterator[Frame]:
        start, index = time.monotonic(), 0
        while True:
            ok, bgr = self.capture.read()
            if not ok:
                return
            yield Frame(np.ascontiguousarray(bgr[..., ::-1]), index, time.monotonic() - start)
            index += 1

    def close(self) -> None:
        self.capture.release()


class Window:
    """A live preview window; needs a display and an OpenCV build with GUI support."""

    def __init__(self, title: str):
        import cv2

        self.title = title
        try:
            cv2.namedWindow(title)
        except cv2.error:
            raise FacepointsError("the live window needs a display and OpenCV with GUI support "
                                  "(pip install opencv-python); or give --out to record instead") from None

    def show(self, image: np.ndarray) -> bool:
        """Show a frame; False once the user pressed q or Esc."""
        import cv2

        cv2.imshow(self.title, np.ascontiguousarray(image[..., ::-1]))
        return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)

    def close(self) -> None:
        import cv2

        cv2.destroyWindow(self.title)


def track(source: str | Path | int, model: str = "ibug68-fast", *, scheme: str | None = None, detect_every: int = 5,
          smooth: bool = True, threshold: float | None = None, flip_test: bool = True) -> Iterator[tuple[Frame, list]]:
    """Faces followed through a video file (a path) or a webcam (its index), as `facepoints filter` follows them:
    the same tracker (facepoints.tracking.FaceTracker) and One Euro smoothing.

        for frame, faces in facepoints.video.track("clip.mp4"):
            for track_id, face in faces:   # facepoints.inference.Face: pose, openness, confidence
                ...

    Yields each frame (``image``, ``index``, ``time`` in seconds) with its ``(track id, Face)`` pairs;
    a face keeps its id while it is followed. Stop early by breaking out of the loop."""
    from facepoints.inference import FaceKeypointer
    from facepoints.options import KeypointerOptions
    from facepoints.tracking import FaceTracker, Smoothing

    settings = {"threshold": threshold} if threshold is not None else {}
    keypointer = FaceKeypointer(options=KeypointerOptions(model=model, flip_test=flip_test, **settings))
    frames = Webcam(source) if isinstance(source, int) else VideoReader(source)
    try:
        tracker = FaceTracker(keypointer, detect_every, Smoothing() if smooth else None, float(frames.rate), scheme)
        for frame in frames:
            yield frame, tracker(frame.image, frame.time)
    finally:
        frames.close()
