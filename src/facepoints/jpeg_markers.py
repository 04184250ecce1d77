"""A JPEG's markers walked before it is decoded, to refuse files whose decoding would cost far
more than their size suggests.

Each scan of a progressive JPEG is a pass over every pixel, so a small file of thousands of empty
scans holds a decoder for minutes (libjpeg-turbo's own advice: limit the scans, as its tools'
`-maxscans` and NVIDIA's nvImageCodec, 256 by default, do). A frame claiming more pixels than its
data can describe is decoded by libjpeg with a warning, the missing part filled in: refused here
as truncated (libjpeg-turbo's advice for CVE-2019-13960: treat that warning as an error).
"""

from __future__ import annotations

import re
from typing import BinaryIO

from facepoints.errors import ImageError

MAX_SCANS = 256
# Huffman-coded sequential frames (baseline, extended): every 8x8 block costs at least a DC code
# and an end-of-block code, one bit each at the shortest.
_SEQUENTIAL_HUFFMAN = (0xC0, 0xC1)
_MIN_BITS_PER_BLOCK = 2
_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD9)}  # TEM, RST0-7, SOI: no length follows
_SOS, _EOI = 0xDA, 0xD9
# Inside entropy-coded data, 0xFF 0x00 is a stuffed 0xFF and 0xFF 0xD0-0xD7 a restart: any other
# 0xFF pair is the next marker (the skipped second bytes are never 0xFF, so no match starts there).
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def check_jpeg(stream: BinaryIO, name: str) -> None:
    """Raise ImageError for a JPEG of more than MAX_SCANS scans, or a sequential one too short for
    the frame it claims. Reads ``stream`` from its start and puts its position back."""
    position = stream.tell()
    stream.seek(0)
    data = stream.read()
    stream.seek(position)
    scans, entropy_bytes, frame = _walk(data, name)
    if frame is not None and frame[0] in _SEQUENTIAL_HUFFMAN:
        _, width, height, sampling = frame
        if entropy_bytes * 8 < _MIN_BITS_PER_BLOCK * _blocks(width, height, sampling):
            raise ImageError(name, f"not a readable image (truncated JPEG: too little data for its {width}x{height} frame)")


def _walk(data: bytes, name: str) -> tuple[int, int, tuple | None]:
    """(scans, bytes of entropy-coded data, (frame marker, width, height, [(h, v) sampling]))."""
    at, scans, entropy_bytes, frame = 2, 0, 0, None
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker == _EOI:
            break
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if marker in _FRAMES and frame is None and length >= 8:
            frame = _frame(marker, data[at + 4:at + 2 + length])
        at += 2 + length
        if marker == _SOS:
            scans += 1
            if scans > MAX_SCANS:
                raise ImageError(name, f"not a readable image (a JPEG of more than {MAX_SCANS} scans)")
            start, at = at, _end_of_entropy_data(data, at)
            entropy_bytes += at - start
    return scans, entropy_bytes, frame


def _end_of_entropy_data(data: bytes, at: int) -> int:
    """Where the next marker starts: an 0xFF followed by neither a stuffed 0x00 nor a restart marker."""
    found = _NEXT_MARKER.search(data, at)
    return found.start() if found else len(data)


def _frame(marker: int, body: bytes) -> tuple | None:
    height, width, components = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big"), body[5]
    if len(body) < 6 + 3 * components:
        return None
    sampling = [(body[7 + 3 * i] >> 4, body[7 + 3 * i] & 15) for i in range(components)]
    return marker, width, height, sampling


def _blocks(width: int, height: int, sampling: list[tuple[int, int]]) -> int:
    """8x8 blocks the frame's components hold (each component subsampled as its factors say)."""
    widest, tallest = max(h for h, _ in sampling) or 1, max(v for _, v in sampling) or 1
    return sum(_ceil(_ceil(width * h, widest), 8) * _ceil(_ceil(height * v, tallest), 8) for h, v in sampling)


def _ceil(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
