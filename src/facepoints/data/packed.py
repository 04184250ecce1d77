"""One .npz per set of crops: JPEG-encoded images plus exact points, small enough to carry.

Crops cut once on the workstation travel to the GPU machine as one small file instead of
thousands of photos. The archive holds no Python objects (no pickle), so
loading a file from elsewhere runs no code.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from facepoints.crop import Framing
from facepoints.data.keypoint_set import KeypointSet
from facepoints.errors import DataError
from facepoints.fileio import atomic_path
from facepoints.schemes import get_scheme

FORMAT = "facepoints-packed-1"
_ARRAYS = ("format", "jpeg_bytes", "jpeg_offsets", "points", "mask", "rows", "scheme", "source", "framing")


def save_packed(ks: KeypointSet, path: str | Path, quality: int = 95) -> None:
    """Write ks to path (.npz) atomically; images as JPEG at quality, everything else exact."""
    encoded = [_encode(image, quality) for image in ks.images]
    offsets = np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64)
    arrays = {
        "format": np.array(FORMAT),
        "jpeg_bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "jpeg_offsets": offsets,
        "points": ks.points.astype(np.float32),
        "mask": ks.mask.astype(bool),
        "rows": _without_objects(np.asarray(ks.rows)),
        "scheme": np.array(ks.scheme.name),
        "source": np.array(ks.source),
        "framing": np.array(json.dumps(ks.framing.as_dict()) if ks.framing else ""),
    }
    if ks.groups is not None:
        arrays["groups"] = _without_objects(np.asarray(ks.groups))
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        np.savez(stream, **arrays)


def load_packed(path: str | Path) -> KeypointSet:
    """The KeypointSet save_packed wrote; images decoded back to uint8 (grey or RGB as saved)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise DataError(path, f"not a packed crops .npz file ({error})") from None
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing or str(arrays["format"]) != FORMAT:
        raise DataError(path, f"not a {FORMAT} file (missing: {', '.join(missing) or 'format tag'})")
    count = len(arrays["jpeg_offsets"]) - 1
    if count < 1 or not len(arrays["points"]) == len(arrays["mask"]) == len(arrays["rows"]) == count:
        raise DataError(path, f"damaged: {count} images but {len(arrays['points'])} point rows")
    framing = str(arrays["framing"])
    return KeypointSet(
        images=_decode_all(path, arrays["jpeg_bytes"], arrays["jpeg_offsets"], arrays["rows"]),
        points=arrays["points"],
        mask=arrays["mask"],
        scheme=get_scheme(str(arrays["scheme"])),
        groups=arrays.get("groups"),
        rows=arrays["rows"],
        source=str(arrays["source"]),
        framing=Framing.from_dict(json.loads(framing)) if framing else None,
    )


def _without_objects(values: np.ndarray) -> np.ndarray:
    """Object arrays would be pickled; rows and groups are names or numbers, so store text."""
    return values.astype(str) if values.dtype == object else values


def _encode(image: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, "JPEG", quality=int(quality))
    return buffer.getvalue()


def _decode_all(path: Path, data: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    images = []
    for index in range(len(offsets) - 1):
        try:
            with Image.open(io.BytesIO(data[offsets[index]: offsets[index + 1]].tobytes()), formats=["JPEG"]) as decoded:
                images.append(np.asarray(decoded))
        except (OSError, ValueError, Image.DecompressionBombError):
            raise DataError(path, f"image of row {rows[index]} is not a readable JPEG") from None
    if len({image.shape for image in images}) > 1:
        raise DataError(path, "images differ in size")
    return np.ascontiguousarray(np.stack(images))
