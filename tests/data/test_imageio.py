"""read_image on every kind of file a user brings: orientation, bit depth, colour model,
transparency, containers, and the broken or hostile ones."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from facepoints.errors import DataError, ImageError
from facepoints.imageio import read_image

HEIGHT, WIDTH = 40, 60
MARK = (slice(4, 10), slice(40, 52))  # a red block in the upper right, away from the centre


def marked_rgb() -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), 30, dtype=np.uint8)
    image[MARK] = (250, 20, 20)
    return image


def red_centre(image: np.ndarray) -> np.ndarray:
    """(x, y) centroid of the red block."""
    red = (image[..., 0] > 150) & (image[..., 1] < 100)
    ys, xs = np.nonzero(red)
    return np.array([xs.mean(), ys.mean()])


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height RGB pixels but holds no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def one_line_error(source, **kwargs) -> str:
    with pytest.raises(ImageError) as caught:
        read_image(source, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---- orientation ---------------------------------------------------------------------------------

# EXIF orientation -> how the stored pixels must turn to be displayed.
DISPLAYED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    6: lambda a: np.rot90(a, -1),  # stored turned 90 degrees anticlockwise: turn it clockwise
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
def test_exif_orientation_moves_the_content(tmp_path, orientation):
    stored = marked_rgb()
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    image = read_image(tmp_path / "photo.jpg")
    expected = DISPLAYED[orientation](stored)
    assert image.shape == expected.shape and image.dtype == np.uint8
    np.testing.assert_allclose(red_centre(image), red_centre(expected), atol=0.5)
    assert np.abs(image.astype(int) - expected).mean() < 3


def test_orientation_6_turns_a_landscape_photo_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(marked_rgb()).save(tmp_path / "phone.jpg", exif=exif)
    image = read_image(tmp_path / "phone.jpg")
    assert image.shape[:2] == (WIDTH, HEIGHT)
    # The block in the stored upper right ends up in the displayed lower right.
    x, y = red_centre(image)
    assert x > HEIGHT / 2 and y > WIDTH / 2


def test_a_pil_image_is_shown_as_displayed_too(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.fromarray(marked_rgb()).save(tmp_path / "photo.jpg", exif=exif)
    with Image.open(tmp_path / "photo.jpg") as opened:
        assert read_image(opened).shape[:2] == (WIDTH, HEIGHT)


# ---- pixel formats ------------------------------------------------------------------------------


def test_16_bit_png_is_scaled_to_8_bit(tmp_path):
    grey16 = np.array([[0, 257 * 100, 65535, 128]], dtype=np.uint16)
    Image.fromarray(grey16).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    image = read_image(tmp_path / "deep.png")
    assert image.shape == (1, 4, 3)
    np.testing.assert_array_equal(image[0, :, 0], [0, 100, 255, 0])
    assert (image == image[..., :1]).all()


def test_cmyk_jpeg_reads_as_rgb(tmp_path):
    rgb = marked_rgb()
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    assert Image.open(tmp_path / "print.jpg").mode == "CMYK"
    image = read_image(tmp_path / "print.jpg")
    assert image.shape == rgb.shape
    assert np.abs(image.astype(int) - rgb).mean() < 4
    np.testing.assert_allclose(red_centre(image), red_centre(rgb), atol=0.5)


def test_rgba_png_is_composited_over_white(tmp_path):
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = [[255, 0, 128], [255, 0, 128]]
    Image.fromarray(rgba).save(tmp_path / "cutout.png")
    image = read_image(tmp_path / "cutout.png")
    np.testing.assert_array_equal(image[0, 0], [200, 0, 0])  # opaque: its own colour
    np.testing.assert_array_equal(image[0, 1], [255, 255, 255])  # transparent: the white page
    np.testing.assert_array_equal(image[0, 2], [(200 * 128 + 255 * 127 + 127) // 255, 127, 127])


def test_palette_and_grey_alpha_images(tmp_path):
    rgb = marked_rgb()
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png", transparency=0)
    Image.fromarray(rgb).convert("LA").save(tmp_path / "grey.png")
    palette, grey = read_image(tmp_path / "palette.png"), read_image(tmp_path / "grey.png")
    assert palette.shape == grey.shape == (HEIGHT, WIDTH, 3)
    transparent_index = np.array(Image.open(tmp_path / "palette.png")) == 0
    assert (palette[transparent_index] == 255).all() and not (palette[~transparent_index] == 255).all()
    assert (grey == grey[..., :1]).all()


@pytest.mark.parametrize("suffix, options", [("webp", {"lossless": True}), ("bmp", {}), ("tiff", {}), ("png", {})])
def test_lossless_containers_round_trip_exactly(tmp_path, suffix, options):
    rgb = marked_rgb()
    Image.fromarray(rgb).save(tmp_path / f"face.{suffix}", **options)
    np.testing.assert_array_equal(read_image(tmp_path / f"face.{suffix}"), rgb)


def test_lossy_webp(tmp_path):
    Image.fromarray(marked_rgb()).save(tmp_path / "face.webp", quality=90)
    assert np.abs(read_image(tmp_path / "face.webp").astype(int) - marked_rgb()).mean() < 4


def test_bytes_and_arrays(tmp_path):
    rgb = marked_rgb()
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    np.testing.assert_array_equal(read_image(buffer.getvalue()), rgb)
    np.testing.assert_array_equal(read_image(rgb), rgb)
    grey = rgb[..., 0]
    np.testing.assert_array_equal(read_image(grey), np.repeat(grey[..., None], 3, axis=2))
    np.testing.assert_array_equal(read_image(grey.astype(np.uint16) * 257)[..., 0], grey)
    rgba = np.dstack([rgb, np.zeros_like(grey)])
    assert (read_image(rgba) == 255).all()
    assert "float32" in one_line_error(rgb.astype(np.float32))


# ---- broken and hostile files -------------------------------------------------------------------


def test_truncated_jpeg(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(tmp_path / "photo.jpg")
    data = (tmp_path / "photo.jpg").read_bytes()
    (tmp_path / "photo.jpg").write_bytes(data[: len(data) // 2])
    message = one_line_error(tmp_path / "photo.jpg")
    assert message == f"{tmp_path / 'photo.jpg'}: not a readable image (truncated JPEG)"


def test_text_file_and_empty_file(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a picture")
    (tmp_path / "empty.png").write_bytes(b"")
    assert one_line_error(tmp_path / "notes.jpg").startswith(f"{tmp_path / 'notes.jpg'}: not a readable image")
    assert "not a readable image" in one_line_error(tmp_path / "empty.png")


def test_missing_file_and_folder(tmp_path):
    assert one_line_error(tmp_path / "gone.jpg") == f"{tmp_path / 'gone.jpg'}: file not found"
    assert "folder" in one_line_error(tmp_path)


def test_image_error_is_a_data_error():
    assert issubclass(ImageError, DataError)


def test_decompression_bomb_is_refused_without_decoding(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_claiming(50_000, 50_000))
    started = time.perf_counter()
    message = one_line_error(tmp_path / "bomb.png")
    assert time.perf_counter() - started < 1.0
    assert message.startswith(f"{tmp_path / 'bomb.png'}: too large to decode safely")


def test_max_pixels_is_checked_on_the_header(tmp_path):
    """48 Mpx claimed: refused by our limit; allowed, the decoder finds no pixel data."""
    (tmp_path / "big.png").write_bytes(png_claiming(8000, 6000))
    assert "48,000,000 pixels" in one_line_error(tmp_path / "big.png")
    assert "truncated PNG" in one_line_error(tmp_path / "big.png", max_pixels=50_000_000)


def test_pil_bomb_warning_becomes_our_error():
    """100 Mpx is past PIL's warning limit (89 Mpx) but below its error: still one ImageError."""
    assert "too large to decode safely" in one_line_error(png_claiming(10_000, 10_000), max_pixels=200_000_000)
