"""Small hostile inputs for the issue #24 tests, made on the spot: broken images, Kaggle files,
zip bombs, videos. Shared by test_hostile_input.py and test_serve_hostile.py."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from facepoints.data.fkd import KEYPOINT_COLUMNS

KAGGLE_HEADER = ",".join(KEYPOINT_COLUMNS) + ",Image"
PIXELS = " ".join(["128"] * 96 * 96)


def grey_png(path: Path, side: int = 48, value: int = 128) -> Path:
    """A small plain photo (no face: detection is quick)."""
    Image.new("RGB", (side, side), (value, value, value)).save(path)
    return path


def noise_image(fmt: str, **options) -> bytes:
    """A valid 32x24 noise picture encoded in ``fmt``: the seed of the fuzz test's mutations."""
    pixels = np.random.default_rng(24).integers(0, 256, (24, 32, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **options)
    return buffer.getvalue()


def make_video(path: Path, frames: int = 24, width: int = 96, height: int = 64) -> Path:
    """A short H.264 clip of changing grey frames (no faces: the run is quick)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(frames):
            yuv = np.full((height * 3 // 2, width), 16 + (index * 7) % 200, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p")))
        container.mux(stream.encode())
    return path


def crafted_tiff() -> bytes:
    """A 48x48 TIFF whose StripOffsets tag (0x0111, type 4 LONG) claims type 7 (UNDEFINED)."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(6).integers(0, 256, (48, 48, 3), np.uint8)).save(buffer, "TIFF")
    data = buffer.getvalue()
    assert data.count(b"\x11\x01\x04\x00") == 1
    return data.replace(b"\x11\x01\x04\x00", b"\x11\x01\x07\x00")


def endless_scans_jpeg(side: int = 6300, scans: int = 20_000) -> bytes:
    """A progressive grey JPEG with ``scans`` empty scan segments before EOI: small, and its
    decode time grows with side^2 x scans."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    return data[:-2] + b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00" * scans + b"\xff\xd9"


def kaggle_test_csv(path: Path, pixels: str = PIXELS, rows: int = 1) -> Path:
    path.write_text("ImageId,Image\n" + "".join(f"{i},{pixels}\n" for i in range(1, rows + 1)))
    return path


def kaggle_lookup_csv(path: Path) -> Path:
    path.write_text("RowId,ImageId,FeatureName,Location\n1,1,left_eye_center_x,\n2,1,nose_tip_y,\n")
    return path


def kaggle_training_csv(path: Path, rows: int, points: bool = True) -> Path:
    """Kaggle training rows of noise faces; with points=False every keypoint is left empty (NaN)."""
    rng = np.random.default_rng(9)
    lines = [KAGGLE_HEADER]
    for _ in range(rows):
        coordinates = ",".join(f"{v:.2f}" for v in rng.uniform(20, 76, 30)) if points else "," * 29
        lines.append(coordinates + "," + " ".join(map(str, rng.integers(0, 256, 96 * 96))))
    path.write_text("\n".join(lines) + "\n")
    return path


def zipped(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return path


def deflate_bomb(path: Path, member: str, head: bytes, megabytes: int) -> Path:
    """A zip whose one member inflates to ``megabytes`` MB (``head``, then zeros as text) from about
    a thousandth of that: the same full-flushed deflate block repeated, CRC and sizes all valid."""
    chunk = b"0" * 1_000_000
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(head + chunk[len(head):]) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH) == block  # repeatable as it is
    body = first + block * (megabytes - 1) + deflate.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head + chunk[len(head):])
    for _ in range(megabytes - 1):
        crc = zlib.crc32(chunk, crc)
    size, name = megabytes * 1_000_000, member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(body), size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(body), size, len(name),
                          0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    path.write_bytes(local + body + central + end)
    return path


def png_with_bad_crc() -> bytes:
    """A valid PNG but for its IHDR chunk's CRC."""
    data = bytearray(noise_image("PNG"))
    data[29] ^= 0xFF  # the IHDR chunk's CRC (8 signature + 8 length/type + 13 body)
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A 312x270 JPEG whose frame header claims width x height: most of the picture is missing."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(13).integers(0, 256, (270, 312, 3), np.uint8)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def lzw_tiff(breakage: str) -> bytes:
    """A 48x48 LZW TIFF (decoded by libtiff) with its strip's codes overwritten, or its
    PlanarConfiguration tag's type changed from SHORT to ASCII."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (48, 48, 3), np.uint8)).save(
        buffer, "TIFF", compression="tiff_lzw")
    data = bytearray(buffer.getvalue())
    if breakage == "codes":
        data[20:40] = b"\xff" * 20  # the strip starts at offset 8
    else:
        table = struct.unpack("<I", data[4:8])[0]
        entries = [table + 2 + 12 * i for i in range(struct.unpack("<H", data[table:table + 2])[0])]
        entry, = [at for at in entries if data[at:at + 2] == struct.pack("<H", 284)]
        data[entry + 2:entry + 4] = struct.pack("<H", 2)
    return bytes(data)
