"""Hostile files and command lines (issue #24): each case is refused with one line naming the file,
never a traceback, a hang, a replaced input or a lost batch. The inputs are made on the spot, small
(hostile_files.py)."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zlib
from pathlib import Path

import hostile_files as hostile
import numpy as np
import pytest

from facepoints.errors import DataError, ImageError, UnsupportedImageError
from facepoints.imageio import read_image


# --- running the command as a user does ----------------------------------------------------------

class Run:
    """A finished `python -m facepoints.cli` run: exit code, output, and its peak memory and time."""

    def __init__(self, returncode: int, stdout: str, stderr: str, peak_mb: float, seconds: float):
        self.returncode, self.stdout, self.stderr, self.peak_mb, self.seconds = returncode, stdout, stderr, peak_mb, seconds

    def __repr__(self) -> str:
        return f"exit {self.returncode} after {self.seconds:.1f} s, {self.peak_mb:.0f} MB; stderr:\n{self.stderr}"


# A child forked from this process starts with its peak memory (Linux keeps the high-water mark
# across exec), and pytest grows large over a whole suite: the command is started by a small
# launcher instead, which reports its own child's peak.
_LAUNCHER = ("import resource, subprocess, sys\n"
             "code = subprocess.call(sys.argv[2:])\n"
             "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
             "sys.exit(code)")


def cli(*args, cwd: Path, timeout: float = 60, env: dict | None = None, prefix: tuple[str, ...] = ()) -> Run:
    """Run the command; a run still going after ``timeout`` seconds is killed and fails the test."""
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "FACEPOINTS_DEBUG"}
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile("w+") as stdout, \
            tempfile.TemporaryFile("w+") as stderr:
        peak = Path(scratch) / "peak_kb"
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(peak), *prefix, sys.executable, "-m",
                                 "facepoints.cli", *map(str, args)], cwd=cwd, env=env, start_new_session=True,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            stderr.seek(0)
            pytest.fail(f"facepoints {' '.join(map(str, args))} still running after {timeout:g} s; "
                        f"stderr so far:\n{stderr.read()[-2000:]}")
        stdout.seek(0)
        stderr.seek(0)
        return Run(proc.returncode, stdout.read(), stderr.read(), int(peak.read_text()) / 1024,
                   time.monotonic() - start)


def assert_clean_stderr(run: Run) -> None:
    """No traceback, no internal error, no stray warnings or libtiff lines: only the command's own lines."""
    for word in ("Traceback", "internal error", "Warning", "tempfile.tif", "TIFFFetch", "TIFFRead"):
        assert word not in run.stderr, run


def assert_refused(run: Run, *words: str, codes=(1,)) -> None:
    """Exit code in ``codes``, and one line on stderr saying what is wrong (containing every word)."""
    assert run.returncode in codes, run
    assert_clean_stderr(run)
    assert any(all(word in line for word in words) for line in run.stderr.splitlines()), run


USAGE_OR_INPUT = (1, 2)  # an output that names an input: either is fair, never 0


# --- 1. the CLI side of the endless-scans JPEG -----------------------------------------------------

def test_a_jpeg_of_endless_empty_scans_is_refused_quickly(tmp_path):
    """issue #24 item 1 (CLI): 356 KB that would take minutes to decode is refused, not decoded."""
    (tmp_path / "scans.jpg").write_bytes(hostile.endless_scans_jpeg())
    run = cli("detect", "scans.jpg", "--model", "ibug68-tiny", cwd=tmp_path, timeout=15)
    assert_refused(run, "scans.jpg")


# --- 3. an output never replaces an input --------------------------------------------------------

@pytest.mark.parametrize("named", ["as is", "through a symlink"])
def test_detect_json_onto_its_input_is_refused(tmp_path, named):
    """issue #24 item 3: `detect a.png --json a.png` replaced the photo with JSON, exit 0."""
    photo = hostile.grey_png(tmp_path / "a.png")
    before = photo.read_bytes()
    target = "a.png"
    if named == "through a symlink":
        (tmp_path / "results.json").symlink_to(photo)
        target = "results.json"
    run = cli("detect", "a.png", "--json", target, cwd=tmp_path)
    assert photo.read_bytes() == before
    assert_refused(run, target, codes=USAGE_OR_INPUT)
    assert "face(s)" not in run.stderr  # refused before any work


def test_filter_json_onto_its_input_photo_is_refused(tmp_path):
    """issue #24 item 3: `filter hat b.png --json b.png` replaced the photo with JSON, exit 0."""
    before = hostile.grey_png(tmp_path / "b.png").read_bytes()
    run = cli("filter", "hat", "b.png", "--json", "b.png", cwd=tmp_path)
    assert (tmp_path / "b.png").read_bytes() == before
    assert_refused(run, "b.png", codes=USAGE_OR_INPUT)
    assert not (tmp_path / "b_hat.png").exists()  # refused before any work


def test_filter_json_onto_its_input_video_is_refused(tmp_path):
    """issue #24 item 3: `filter hat c.mp4 --out c_hat.mp4 --json c.mp4` replaced the video, exit 0."""
    before = hostile.make_video(tmp_path / "c.mp4").read_bytes()
    run = cli("filter", "hat", "c.mp4", "--out", "c_hat.mp4", "--json", "c.mp4", cwd=tmp_path)
    assert (tmp_path / "c.mp4").read_bytes() == before
    assert_refused(run, "c.mp4", codes=USAGE_OR_INPUT)
    assert not (tmp_path / "c_hat.mp4").exists()


def test_detect_draw_into_the_photos_own_folder_is_refused(tmp_path):
    """issue #24 item 3: `detect pics --draw pics` replaced each PNG photo by its overlay, exit 0."""
    pics = tmp_path / "pics"
    pics.mkdir()
    before = {name: hostile.grey_png(pics / name, value=60 + 40 * i).read_bytes() for i, name in enumerate(["a.png", "b.png"])}
    run = cli("detect", "pics", "--draw", "pics", cwd=tmp_path)
    assert {name: (pics / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in pics.iterdir()) == ["a.png", "b.png"]
    assert_refused(run, "pics", codes=USAGE_OR_INPUT)


@pytest.mark.parametrize("onto", ["lookup.csv", "test.csv"])
def test_submit_out_onto_its_lookup_or_test_file_is_refused(tmp_path, onto):
    """issue #24 item 3: `submit --out` naming the lookup table or the test file replaced it, exit 0."""
    hostile.kaggle_test_csv(tmp_path / "test.csv")
    hostile.kaggle_lookup_csv(tmp_path / "lookup.csv")
    before = (tmp_path / onto).read_bytes()
    run = cli("submit", "--test", "test.csv", "--lookup", "lookup.csv", "--out", onto, "--model", "fkd15", cwd=tmp_path)
    assert (tmp_path / onto).read_bytes() == before
    assert_refused(run, onto, codes=USAGE_OR_INPUT)


def test_audit_out_onto_its_data_is_refused(tmp_path):
    """issue #24 item 3: `audit t.zip --out t.zip` replaced the training data with suspects.csv."""
    csv = hostile.kaggle_training_csv(tmp_path / "training.csv", rows=24)
    hostile.zipped(tmp_path / "t.zip", "training.csv", csv.read_bytes())
    csv.unlink()
    before = (tmp_path / "t.zip").read_bytes()
    run = cli("audit", "t.zip", "--out", "t.zip", "--no-progress", cwd=tmp_path, timeout=120)
    assert (tmp_path / "t.zip").read_bytes() == before
    assert_refused(run, "t.zip", codes=USAGE_OR_INPUT)


# --- 4. writes to what is not a regular file write through (or refuse), never replace it -------

def test_json_onto_a_fifo_writes_into_it(tmp_path):
    """issue #24 item 4: `--json fifo` turned the FIFO into a regular file; its reader got nothing."""
    hostile.grey_png(tmp_path / "a.png")
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open before the writer: neither side blocks
    received, result = bytearray(), {}
    worker = threading.Thread(target=lambda: result.update(
        run=cli("detect", "a.png", "--json", "results.json", cwd=tmp_path, timeout=30)))
    try:
        worker.start()
        while worker.is_alive():
            select.select([reader], [], [], 0.1)
            received += _drain(reader)
            time.sleep(0.01)  # with no writer yet, the read end is always "ready" (at end of file)
        received += _drain(reader)
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert result["run"].returncode == 0, result["run"]
    assert json.loads(received)["images"][0]["path"] == "a.png"


def _drain(fd: int) -> bytes:
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


def test_json_onto_a_symlink_to_a_device_writes_through(tmp_path):
    """issue #24 item 4: `--json sink` with sink -> /dev/null replaced the link by a regular file
    (as root, `--json /dev/null` itself would replace the device node; here only a link in tmp_path)."""
    hostile.grey_png(tmp_path / "a.png")
    (tmp_path / "sink").symlink_to("/dev/null")
    run = cli("detect", "a.png", "--json", "sink", cwd=tmp_path)
    assert (tmp_path / "sink").is_symlink() and os.readlink(tmp_path / "sink") == "/dev/null"
    assert run.returncode == 0, run
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_json_onto_a_symlink_to_stdout_prints_it(tmp_path):
    """issue #24 item 4: `--json out` with out -> /proc/self/fd/1 printed nothing and replaced the link
    (the same as `--json /dev/stdout`, which as root replaced /dev/stdout; not run here for that reason)."""
    hostile.grey_png(tmp_path / "a.png")
    (tmp_path / "out").symlink_to("/proc/self/fd/1")
    run = cli("detect", "a.png", "--json", "out", cwd=tmp_path)
    assert (tmp_path / "out").is_symlink(), "the link was replaced by a regular file"
    assert run.returncode == 0, run
    assert json.loads(run.stdout)["images"][0]["path"] == "a.png"


def test_json_onto_a_symlinked_file_writes_the_file(tmp_path):
    """issue #24 item 4: `--json link.json` replaced the link by a file; the file it names kept its old text."""
    hostile.grey_png(tmp_path / "a.png")
    (tmp_path / "kept").mkdir()
    real = tmp_path / "kept" / "results.json"
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    run = cli("detect", "a.png", "--json", "link.json", cwd=tmp_path)
    assert run.returncode == 0, run
    assert (tmp_path / "link.json").is_symlink(), "the link was replaced by a regular file"
    assert json.loads(real.read_text())["images"][0]["path"] == "a.png"


def test_json_dash_writes_to_stdout(tmp_path):
    """issue #24 item 4: `--json -` wrote a file named `-` instead of printing."""
    hostile.grey_png(tmp_path / "a.png")
    run = cli("detect", "a.png", "--json", "-", cwd=tmp_path)
    assert run.returncode == 0, run
    assert not (tmp_path / "-").exists()
    assert json.loads(run.stdout)["images"][0]["path"] == "a.png"


# --- 5. zip bombs -------------------------------------------------------------------------------

@pytest.mark.parametrize("head", [b"not,a,kaggle,header\n", b"ImageId,Image\n1,"], ids=["bad header", "valid header"])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, head):
    """issue #24 item 5: a zip whose test.csv inflates to 1 GB (from 1 MB) was read whole first:
    more than a gigabyte of memory. Its header is checked first, and the inflated size capped."""
    hostile.deflate_bomb(tmp_path / "test.zip", "test.csv", head, megabytes=1000)
    hostile.kaggle_lookup_csv(tmp_path / "lookup.csv")
    run = cli("submit", "--test", "test.zip", "--lookup", "lookup.csv", "--out", "sub.csv", "--model", "fkd15",
              cwd=tmp_path, timeout=60)
    assert_refused(run, "test.zip", "missing columns" if head.startswith(b"not") else "zip bomb")
    assert run.peak_mb < 600, run
    assert not (tmp_path / "sub.csv").exists()


# --- 6. one broken image is one failed image --------------------------------------------------

def test_a_crafted_tiff_fails_alone_and_the_batch_goes_on(tmp_path):
    """issue #24 item 6: a TIFF with a tag's type changed from 4 to 7 ended `detect photos/ evil.tif`
    with "internal error: TypeError", exit 3, and no JSON for the good photos."""
    (tmp_path / "photos").mkdir()
    hostile.grey_png(tmp_path / "photos" / "a.png")
    (tmp_path / "evil.tif").write_bytes(hostile.crafted_tiff())
    run = cli("detect", "photos", "evil.tif", "--json", "out.json", cwd=tmp_path)
    assert_refused(run, "evil.tif")
    images = json.loads((tmp_path / "out.json").read_text())["images"]
    assert [image["path"] for image in images] == ["photos/a.png", "evil.tif"]
    assert "error" not in images[0] and "evil.tif" in images[1]["error"]


def _mutations(data: bytes, fmt: str, rng: np.random.Generator, count: int):
    """``count`` broken copies of ``data``: bytes overwritten (mostly in the headers), 16-bit fields
    set to edge values, cut short, a slice repeated, or (PNG) a chunk's body changed with its CRC
    fixed, so that the decoder, not the CRC check, meets it."""
    for _ in range(count):
        blob = bytearray(data)
        kind = rng.integers(5)
        if kind == 0:
            for _ in range(rng.integers(1, 5)):
                blob[rng.integers(min(len(blob), 512))] = rng.integers(256)
        elif kind == 1:
            at = int(rng.integers(min(len(blob), 256) - 2))
            blob[at:at + 2] = struct.pack("<H" if rng.random() < 0.5 else ">H", EDGES[rng.integers(len(EDGES))])
        elif kind == 2:
            del blob[rng.integers(8, len(blob)):]
        elif kind == 3:
            at, size = int(rng.integers(len(blob))), int(rng.integers(1, 64))
            blob[at:at] = blob[at:at + size] * int(rng.integers(1, 50))
        elif fmt == "PNG":
            at, length = _png_chunks(blob)[rng.integers(len(_png_chunks(blob)))]
            for _ in range(rng.integers(1, 4) if length else 0):
                blob[at + 8 + rng.integers(length)] = rng.integers(256)
            blob[at + 8 + length:at + 12 + length] = struct.pack(">I", zlib.crc32(blob[at + 4:at + 8 + length]))
        else:
            blob[rng.integers(len(blob))] ^= 1 << rng.integers(8)
        yield bytes(blob)


EDGES = (0, 1, 2, 3, 4, 5, 7, 8, 16, 255, 256, 0x7FFF, 0x8000, 0xFFFF)


def _png_chunks(blob: bytes) -> list[tuple[int, int]]:
    """(offset, body length) of each chunk."""
    chunks, at = [], 8
    while at + 8 <= len(blob):
        length = struct.unpack(">I", blob[at:at + 4])[0]
        chunks.append((at, length))
        at += 12 + length
    return chunks


def _tiff_tag_types(data: bytes):
    """Every tag of a little-endian TIFF's first IFD given every field type 0-16 in turn (what
    item 6's file did to one tag: 4 -> 7)."""
    table = struct.unpack("<I", data[4:8])[0]
    for entry in range(struct.unpack("<H", data[table:table + 2])[0]):
        at = table + 2 + 12 * entry + 2
        for kind in range(17):
            yield data[:at] + struct.pack("<H", kind) + data[at + 2:]


def test_read_image_fuzz_decodes_or_raises_data_error():
    """issue #24 item 6: mutated files of every format read_image reads either decode or raise
    DataError (ImageError): never another exception, never a hang. Fixed seeds, about 550 cases:
    40 random mutations per format and variant, and every TIFF tag given every field type."""
    seeds = {"JPEG": hostile.noise_image("JPEG"), "JPEG progressive": hostile.noise_image("JPEG", progressive=True),
             "PNG": hostile.noise_image("PNG"), "BMP": hostile.noise_image("BMP"), "TIFF": hostile.noise_image("TIFF"),
             "TIFF LZW": hostile.noise_image("TIFF", compression="tiff_lzw"), "WEBP": hostile.noise_image("WEBP"),
             "WEBP lossless": hostile.noise_image("WEBP", lossless=True), "GIF": hostile.noise_image("GIF")}
    cases = [(f"{name} #{index}", blob) for number, (name, data) in enumerate(seeds.items())
             for index, blob in enumerate(_mutations(data, name.split()[0], np.random.default_rng(2400 + number), 40))]
    cases += [(f"TIFF tag type #{index}", blob) for index, blob in enumerate(_tiff_tag_types(seeds["TIFF"]))]
    escaped, start = [], time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL warns about some broken files; only exceptions count here
        for name, blob in cases:
            try:
                read_image(blob, name=name)
            except DataError:
                pass
            except Exception as error:  # noqa: BLE001 - the point: nothing else may escape
                escaped.append(f"{name}: {type(error).__name__}: {error}")
    assert time.monotonic() - start < 10
    assert not escaped, f"{len(escaped)} of {len(cases)} escaped: " + "; ".join(escaped[:5])


# --- 7. Kaggle pixels out of range ------------------------------------------------------------

@pytest.mark.parametrize("value", ["4294967397", "1e30"])
def test_a_kaggle_pixel_outside_0_255_is_an_error_naming_the_line(tmp_path, value):
    """issue #24 item 7: `4294967397` was read as 101 (wrapped); `1e30` gave a wrong message and a RuntimeWarning."""
    hostile.kaggle_test_csv(tmp_path / "test.csv", pixels=" ".join(["128"] * 99 + [value] + ["128"] * (96 * 96 - 100)))
    hostile.kaggle_lookup_csv(tmp_path / "lookup.csv")
    run = cli("submit", "--test", "test.csv", "--lookup", "lookup.csv", "--out", "sub.csv", "--model", "fkd15", cwd=tmp_path)
    assert_refused(run, "test.csv", "line 2", "0-255")
    assert not (tmp_path / "sub.csv").exists()


# --- 8. the photo pixel limit applies to video frames ----------------------------------------

def test_a_video_past_the_pixel_limit_is_refused(tmp_path):
    """issue #24 item 8: a 199 KB 8192x8192 clip took 4.7 GB; here 6656x6656 (44 M pixels, over the
    photos' 40 M limit), one flat frame. Refused unread, as a photo that size is."""
    hostile.make_video(tmp_path / "huge.mp4", frames=1, width=6656, height=6656)
    run = cli("filter", "hat", "huge.mp4", "--out", "out.mp4", "--model", "ibug68-tiny", cwd=tmp_path, timeout=60)
    assert_refused(run, "huge.mp4", "too large")
    assert run.peak_mb < 1000, run
    assert not (tmp_path / "out.mp4").exists()


# --- 9. degenerate training data -------------------------------------------------------------

@pytest.mark.slow  # `train` loads the training stack: several seconds before it reads a byte
def test_training_on_data_without_a_single_keypoint_is_refused(tmp_path):
    """issue #24 item 9: every keypoint NaN trained and exported a model and wrote NaN into scores.json."""
    hostile.kaggle_training_csv(tmp_path / "nan.csv", rows=16, points=False)
    run = cli("train", "--data", "nan.csv", "--out", "run", "--epochs", "1", "--no-progress", cwd=tmp_path, timeout=120)
    assert_refused(run, "nan.csv")
    assert not (tmp_path / "run" / "model.onnx").exists()
    for written in (tmp_path / "run").rglob("*.json") if (tmp_path / "run").exists() else []:
        json.loads(written.read_text(), parse_constant=lambda name: pytest.fail(f"{written.name} holds {name}"))


@pytest.mark.slow  # `train` loads the training stack: several seconds before it reads a byte
def test_training_on_a_header_only_csv_is_refused_and_writes_no_run(tmp_path):
    """issue #24 item 9: a header-only CSV was "internal error: ValueError" and left a half-written run folder."""
    (tmp_path / "empty.csv").write_text(hostile.KAGGLE_HEADER + "\n")
    run = cli("train", "--data", "empty.csv", "--out", "run", "--epochs", "1", "--no-progress", cwd=tmp_path, timeout=120)
    assert_refused(run, "empty.csv")
    assert not (tmp_path / "run").exists()


def test_evaluating_on_a_header_only_csv_is_refused(tmp_path):
    """issue #24 item 9: `evaluate` on a header-only CSV printed nan, exit 0."""
    (tmp_path / "empty.csv").write_text(hostile.KAGGLE_HEADER + "\n")
    run = cli("evaluate", "fkd15", "--data", "empty.csv", cwd=tmp_path)
    assert_refused(run, "empty.csv")
    assert "nan" not in run.stdout


# --- 10. FIFOs never hang a run -------------------------------------------------------------

def test_a_fifo_in_an_input_folder_is_skipped(tmp_path):
    """issue #24 item 10: a FIFO named like a photo inside an input folder hung `detect` for ever."""
    (tmp_path / "photos").mkdir()
    hostile.grey_png(tmp_path / "photos" / "a.png")
    os.mkfifo(tmp_path / "photos" / "b.png")
    run = cli("detect", "photos", "--json", "out.json", cwd=tmp_path, timeout=15)
    assert run.returncode == 0, run
    assert_clean_stderr(run)
    assert [image["path"] for image in json.loads((tmp_path / "out.json").read_text())["images"]] == ["photos/a.png"]


def test_a_fifo_as_a_filters_picture_is_refused(tmp_path):
    """issue #24 item 10: an anchor file whose picture is a FIFO hung `filter` for ever."""
    hostile.grey_png(tmp_path / "a.png")
    os.mkfifo(tmp_path / "picture.png")
    (tmp_path / "mine.json").write_text(json.dumps({"image": "picture.png", "eyes": [[10, 20], [40, 20]]}))
    run = cli("filter", "mine.json", "a.png", "--out", "out.png", cwd=tmp_path, timeout=15)
    assert_refused(run, "picture.png")
    assert not (tmp_path / "out.png").exists()


def test_read_image_refuses_a_fifo_at_once(tmp_path):
    """issue #24 item 10 (library): read_image on a FIFO blocked for ever waiting for a writer."""
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    outcome = []

    def read() -> None:
        try:
            read_image(fifo)
            outcome.append("decoded")
        except Exception as error:  # noqa: BLE001 - recorded and checked below
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock it: open the write end and close it (an empty "file")
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("read_image blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], ImageError) and "photo.png" in str(outcome[0])


# --- 11. SIGTERM and SIGHUP clean up as Ctrl-C does -----------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_during_video_filter_leaves_no_partial_file(tmp_path, signum):
    """issue #24 item 11: SIGTERM (or SIGHUP) mid-video left the hidden partial output behind."""
    hostile.make_video(tmp_path / "clip.mp4", frames=600, width=320, height=240)
    (tmp_path / "out").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "FACEPOINTS_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "facepoints.cli", "filter", "hat", "clip.mp4", "--out",
                             "out/clip_hat.mp4", "--model", "ibug68-tiny", "--detect-every", "1"], cwd=tmp_path,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not any((tmp_path / "out").iterdir()) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the filter ended before the signal could be sent"
        time.sleep(0.3)  # a few frames in
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    assert list((tmp_path / "out").iterdir()) == [], "a partial output was left behind"


# --- 12. one line where an internal error was -----------------------------------------------

@pytest.mark.parametrize("box", ["nan,nan,20,20", "inf,0,20,20", "1e30,1e30,20,20", "0,0,1e6,1e6", "5000,5000,20,20"],
                         ids=["NaN", "inf", "1e30", "far past the image", "wholly off the image"])
def test_a_box_that_is_not_finite_or_off_the_image_is_one_line(tmp_path, box):
    """issue #24 item 12: `--box` with NaN, inf, 1e30 or reaching far past the image was an internal
    error; wholly off the image it made up a face there (exit 0)."""
    hostile.grey_png(tmp_path / "a.png")
    run = cli("detect", "a.png", "--box", box, cwd=tmp_path)
    assert_refused(run, "--box", codes=USAGE_OR_INPUT)


def test_an_encrypted_zip_member_is_one_line(tmp_path):
    """issue #24 item 12: an encrypted test.csv in the zip was an internal error."""
    archive = hostile.zipped(tmp_path / "test.zip", "test.csv", hostile.kaggle_test_csv(tmp_path / "plain.csv").read_bytes())
    data = bytearray(archive.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general-purpose bit 0: encrypted
        at = data.find(signature)
        data[at + flags_at] |= 1
    archive.write_bytes(bytes(data))
    hostile.kaggle_lookup_csv(tmp_path / "lookup.csv")
    run = cli("submit", "--test", "test.zip", "--lookup", "lookup.csv", "--out", "sub.csv", "--model", "fkd15", cwd=tmp_path)
    assert_refused(run, "test.zip")


def test_corrupt_deflate_data_in_a_zip_is_one_line(tmp_path):
    """issue #24 item 12: corrupt deflate data in the zip was an internal error (zlib.error)."""
    archive = hostile.zipped(tmp_path / "test.zip", "test.csv", hostile.kaggle_test_csv(tmp_path / "plain.csv", rows=3).read_bytes())
    data = bytearray(archive.read_bytes())
    start = 30 + len("test.csv")
    data[start:start + 16] = b"\xff" * 16
    archive.write_bytes(bytes(data))
    hostile.kaggle_lookup_csv(tmp_path / "lookup.csv")
    run = cli("submit", "--test", "test.zip", "--lookup", "lookup.csv", "--out", "sub.csv", "--model", "fkd15", cwd=tmp_path)
    assert_refused(run, "test.zip")


def test_a_deeply_nested_anchor_file_is_one_line(tmp_path):
    """issue #24 item 12: an anchor JSON nested 100,000 deep was an internal error (RecursionError)."""
    hostile.grey_png(tmp_path / "a.png")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    run = cli("filter", "deep.json", "a.png", "--out", "out.png", cwd=tmp_path)
    assert_refused(run, "deep.json")


def test_draw_onto_a_file_is_one_line(tmp_path):
    """issue #24 item 12: `--draw` naming a file was an internal error (FileExistsError)."""
    hostile.grey_png(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("mine")
    run = cli("detect", "a.png", "--draw", "notes.txt", cwd=tmp_path)
    assert_refused(run, "notes.txt", codes=USAGE_OR_INPUT)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_draw_into_a_locked_folder_is_one_line(tmp_path):
    """issue #24 item 12: `--draw` below a folder the user may not write was an internal error
    (PermissionError). Root writes anywhere: as root the run loses that power (setpriv)."""
    prefix = ()
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: a locked folder does not lock")
        prefix = ("setpriv", "--inh-caps=-dac_override,-dac_read_search",
                  "--bounding-set=-dac_override,-dac_read_search")
    hostile.grey_png(tmp_path / "a.png")
    (tmp_path / "locked").mkdir()
    os.chmod(tmp_path / "locked", 0o555)
    try:
        run = cli("detect", "a.png", "--draw", "locked/overlays", cwd=tmp_path, prefix=prefix)
    finally:
        os.chmod(tmp_path / "locked", 0o755)
    assert_refused(run, "locked", codes=USAGE_OR_INPUT)


@pytest.mark.slow  # `train` loads the training stack: several seconds before it reads a byte
def test_train_out_onto_a_file_is_one_line(tmp_path):
    """issue #24 item 12: `train --out` naming a file was an internal error."""
    hostile.kaggle_training_csv(tmp_path / "t.csv", rows=16)
    (tmp_path / "notes.txt").write_text("mine")
    run = cli("train", "--data", "t.csv", "--out", "notes.txt", "--epochs", "1", "--no-progress", cwd=tmp_path, timeout=120)
    assert_refused(run, "notes.txt", codes=USAGE_OR_INPUT)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("breakage", ["codes", "tag type"])
def test_libtiff_messages_do_not_reach_stderr(tmp_path, breakage):
    """issue #24 item 12: libtiff printed its own lines ("tempfile.tif: Using code not yet in table.",
    "TIFFFetchNormalTag: Incompatible type ...") beside facepoints' one-line error."""
    (tmp_path / "broken.tif").write_bytes(hostile.lzw_tiff(breakage))
    run = cli("detect", "broken.tif", cwd=tmp_path)
    assert_refused(run, "broken.tif")
    assert all(line.startswith("error:") or "face(s)" in line for line in run.stderr.splitlines() if line.strip()), run


# --- 13. smaller ones -----------------------------------------------------------------------

def test_terminal_escapes_in_a_file_name_do_not_reach_stderr(tmp_path):
    """issue #24 item 13: a file name's escape sequences (set the title, turn red) reached stderr unfiltered."""
    name = "evil\x1b]0;pwned\x07\x1b[31m.png"
    (tmp_path / name).write_bytes(b"not an image")
    run = cli("detect", name, cwd=tmp_path)
    assert run.returncode == 1, run
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr, repr(run.stderr)
    assert "evil" in run.stderr


def test_a_png_with_a_bad_crc_is_a_broken_image_not_an_unknown_format():
    """issue #24 item 13: a PNG with a bad CRC was "not a JPEG, PNG, ... file" (service: 415, not 422)."""
    with pytest.raises(ImageError) as raised:
        read_image(hostile.png_with_bad_crc(), name="bad.png")
    assert not isinstance(raised.value, UnsupportedImageError), raised.value
    assert "bad.png" in str(raised.value)


def test_a_jpeg_claiming_more_pixels_than_it_holds_is_truncated():
    """issue #24 item 13: a JPEG claiming 6000x6000 over 312x270 of data was accepted, grey-filled."""
    with pytest.raises(ImageError, match="truncated"):
        read_image(hostile.jpeg_claiming(6000, 6000), name="short.jpg")


def test_a_folder_named_like_a_photo_is_not_a_failed_image(tmp_path):
    """issue #24 item 13: a folder named `x.png` inside an input folder counted as a failed image (exit 1)."""
    (tmp_path / "photos" / "x.png").mkdir(parents=True)
    hostile.grey_png(tmp_path / "photos" / "a.png")
    run = cli("detect", "photos", "--json", "out.json", cwd=tmp_path)
    assert run.returncode == 0, run
    assert [image["path"] for image in json.loads((tmp_path / "out.json").read_text())["images"]] == ["photos/a.png"]
