"""Read any photo a user brings as the RGB pixels they see, or fail with one line naming the file.

Photos from phones carry an EXIF orientation, PNGs may be 16-bit or transparent, scans may be
CMYK: keypoints are only right if every reader turns these into the same displayed pixels.
A file's header is checked before its pixels are decoded, so a hostile or broken file that
claims billions of pixels (or a JPEG of endless scans, each a pass over every pixel) is refused
instead of exhausting memory or time; whatever a decoder raises on a broken file is an ImageError.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from facepoints.errors import ImageError, UnsupportedImageError
from facepoints.jpeg_markers import check_jpeg

DEFAULT_MAX_PIXELS = 40_000_000
# Formats photos arrive in. Naming them keeps PIL from trying plugins that run external
# programs (EPS calls Ghostscript) on untrusted files.
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
# File names a folder of photos is searched for, in the order a name with several is preferred.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
# How each format's files begin: bytes that start so but PIL cannot open are a broken file of
# that format (a bad checksum, a cut header), not a format facepoints does not read.
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF8": "GIF", b"BM": "BMP",
               b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"RIFF": "WEBP"}


def _silence_libtiff() -> None:
    """Remove libtiff's default handlers, which print its warnings and errors straight to stderr
    (Pillow turns its failures into exceptions already), as libvips, Leptonica and CImg do. Where
    the library Pillow loaded cannot be found (not Linux), its messages stay."""
    import ctypes

    from PIL import _imaging  # noqa: F401 - loads the libtiff Pillow links to

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libtiff" in line.rsplit("/", 1)[-1]}
    except OSError:
        return
    for path in paths:
        try:
            library = ctypes.CDLL(path)
            library.TIFFSetWarningHandler(None)
            library.TIFFSetErrorHandler(None)
        except (OSError, AttributeError):
            pass


_silence_libtiff()

ImageSource = str | os.PathLike | bytes | bytearray | memoryview | Image.Image | np.ndarray


def read_image(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS, name: str | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB as displayed: EXIF orientation applied, transparency over white.

    source: a path, encoded file bytes, a PIL image, or an array (H, W), (H, W, 1|3|4) of uint8
    or uint16 (RGB order). Images with more than max_pixels pixels are refused unread; PIL's
    own limit (``Image.MAX_IMAGE_PIXELS``) applies as well. name: what errors call the image
    (the file that bytes were read from); by default the path, or ``<image bytes>``.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, Image.Image):
        return _decode(source, name or "<PIL image>", max_pixels)
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, opened = name or "<image bytes>", io.BytesIO(bytes(source))
    else:
        name, opened = name or str(source), Path(source)
    with _open(opened, name) as image:
        return _decode(image, name, max_pixels)


def _open(source: Path | io.BytesIO, name: str) -> Image.Image:
    """Read only the header; PIL's decompression-bomb error and warning become ImageError."""
    if isinstance(source, Path):
        _check_regular_file(source, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(source, formats=FORMATS)
    except FileNotFoundError:
        raise ImageError(name, "file not found") from None
    except PermissionError:
        raise ImageError(name, "permission denied") from None
    except UnidentifiedImageError:
        raise _unidentified(source, name) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(name, f"too large to decode safely ({error})") from None
    except Exception as error:  # noqa: BLE001 - a plugin meeting a broken header may raise anything
        raise _unreadable(name, "file", error) from None


def _check_regular_file(path: Path, name: str) -> None:
    """A FIFO, device or socket is refused unopened: opening a FIFO waits for a writer for ever."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ImageError(name, "file not found") from None
    except OSError as error:
        raise ImageError(name, f"cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(mode):
        raise ImageError(name, "is a folder, not an image")
    if not stat.S_ISREG(mode):
        raise ImageError(name, "not a regular file (a FIFO, device or socket), so not read")


def _unidentified(source: Path | io.BytesIO, name: str) -> ImageError:
    """A broken file of a format read here (ImageError), or bytes of no such format (UnsupportedImageError)."""
    try:
        with open(source, "rb") if isinstance(source, Path) else contextlib.nullcontext(source) as stream:
            stream.seek(0)
            start = stream.read(16)
    except OSError:
        start = b""
    for signature, kind in _SIGNATURES.items():
        if start.startswith(signature) and (kind != "WEBP" or start[8:12] == b"WEBP"):
            return ImageError(name, f"not a readable image (corrupt {kind} header)")
    return UnsupportedImageError(name, "not a readable image (not a JPEG, PNG, WebP, BMP, TIFF or GIF file)")


def read_image_rgba(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """(H, W, 4) uint8 RGBA as displayed, transparency kept (opaque pictures get alpha 255)."""
    with _open(Path(path), str(path)) as image:
        return _decode(image, str(path), max_pixels, lambda loaded, _: np.array(loaded.convert("RGBA")))


def _decode(image: Image.Image, name: str, max_pixels: int, convert=None) -> np.ndarray:
    """The pixels as ``convert(image, name)`` gives them (default: RGB as displayed)."""
    loaded = _loaded(image, name, max_pixels)
    try:
        return (convert or _to_rgb)(loaded, name)
    except ImageError:
        raise
    except Exception as error:  # noqa: BLE001 - converting a broken file's odd mode or palette
        raise _unreadable(name, image.format or "image", error) from None


def _loaded(image: Image.Image, name: str, max_pixels: int) -> Image.Image:
    """Pixels decoded and turned upright, after refusing sizes that could exhaust memory."""
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            name,
            f"too large to decode safely: {width}x{height} is {width * height:,} pixels, "
            f"more than max_pixels={max_pixels:,}",
        )
    if image.format == "JPEG" and image.fp is not None:  # not decoded yet (a loaded image has let go of its file)
        check_jpeg(image.fp, name)
    try:
        image.load()
    except MemoryError:
        raise ImageError(name, "too large to decode in the memory available") from None
    except Exception as error:  # noqa: BLE001 - decoders meeting broken data raise anything (TypeError, ...)
        raise _unreadable(name, image.format or "image", error) from None
    return _displayed(image)


def _unreadable(name: str, kind: str, error: Exception) -> ImageError:
    if "truncated" in str(error).lower():
        return ImageError(name, f"not a readable image (truncated {kind})")
    return ImageError(name, f"not a readable image (corrupt {kind}: {error})")


def _displayed(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; a broken EXIF block is ignored, as viewers do."""
    try:
        turned = image.getexif().get(ExifTags.Base.Orientation, 1) != 1
        return ImageOps.exif_transpose(image) if turned else image
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return image


def _to_rgb(image: Image.Image, name: str) -> np.ndarray:
    if image.mode in _SIXTEEN_BIT_MODES:
        grey = _sixteen_to_eight_bit(np.array(image))
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode == "F":
        raise ImageError(name, "floating-point pixels (PIL mode F) are not supported; save as 8 or 16 bit")
    if "A" in image.mode or "a" in image.mode or "transparency" in image.info:
        return _over_white(np.array(image.convert("RGBA")))
    return np.array(image if image.mode == "RGB" else image.convert("RGB"))


def _from_array(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint16:
        array = _sixteen_to_eight_bit(array)
    elif array.dtype != np.uint8:
        raise ImageError("<array>", f"pixels of dtype {array.dtype} are not supported; expected uint8 or uint16")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 1):
        return np.repeat(array.reshape(array.shape[:2] + (1,)), 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return array.copy()
    if array.ndim == 3 and array.shape[2] == 4:
        return _over_white(array)
    raise ImageError("<array>", f"shape {array.shape} is not an image: expected (H, W), (H, W, 3) or (H, W, 4)")


def _sixteen_to_eight_bit(values: np.ndarray) -> np.ndarray:
    """0-65535 onto 0-255 with rounding (PIL mode I may hold values outside 16 bits: clipped)."""
    wide = np.clip(values.astype(np.int64), 0, 65535)
    return ((wide * 255 + 32767) // 65535).astype(np.uint8)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """Composite RGBA over a white page, as a browser shows a transparent picture."""
    rgb, alpha = rgba[..., :3].astype(np.uint32), rgba[..., 3:].astype(np.uint32)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
