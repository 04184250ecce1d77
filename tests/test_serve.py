"""The HTTP API with FastAPI's test client: every route, every refusal, on real photos."""

import asyncio
import builtins
import csv
import gc
import json
import re
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from facepoints.commands.detect import example_photo
from facepoints.draw import encode_image
from facepoints.filters import load_filter
from facepoints.imageio import read_image
from facepoints.inference import FaceKeypointer, image_json
from facepoints.serve import create_app
from facepoints.serve.app import CONFIG_VARIABLE, app_from_environment

with warnings.catch_warnings():  # Starlette now prefers httpx2 for its test client; httpx works the same
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


class SlowKeypointer:
    """The real keypointer, taking ``seconds`` longer on photos (not on the start-up warm-up)."""

    def __init__(self, real: FaceKeypointer, seconds: float):
        self.real, self.seconds = real, seconds

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __call__(self, image, **options):
        if image.shape[0] > 64:
            time.sleep(self.seconds)
        return self.real(image, **options)


@pytest.fixture(scope="module")
def keypointer():
    return FaceKeypointer(threads=1)


@pytest.fixture(scope="module")
def client(keypointer):
    with TestClient(create_app(keypointer=keypointer, threads=2)) as client:
        yield client


@pytest.fixture(scope="module")
def photo() -> bytes:
    return example_photo().read_bytes()


def upload(data: bytes, name: str = "photo.jpg", **fields) -> dict:
    return {"files": {"image": (name, data, "application/octet-stream")}, "data": fields}


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels: a decompression bomb's shape."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# --- what the routes answer ---------------------------------------------------------------------

def test_detect_gives_what_facepoints_detect_writes(client, keypointer, photo):
    response = client.post("/api/detect", **upload(photo))
    assert response.status_code == 200
    image = read_image(photo)
    assert response.json() == json.loads(json.dumps(image_json(image, keypointer(image))))
    face, = response.json()["faces"]
    assert (response.json()["width"], response.json()["height"]) == (512, 600)
    assert face["scheme"] == "ibug68" and len(face["keypoints"]) == len(face["names"]) == 68
    assert set(face["pose"]) == {"yaw", "pitch", "roll"} and len(face["confidence"]) == 68  # as the README says
    assert set(face["openness"]) == {"left_eye", "right_eye", "mouth"}


@pytest.mark.parametrize("scheme, count", [("fkd15", 15), ("celeba5", 5), ("ibug68", 68)])
def test_detect_converts_to_the_scheme_asked(client, photo, scheme, count):
    face, = client.post("/api/detect", **upload(photo, scheme=scheme)).json()["faces"]
    assert face["scheme"] == scheme and len(face["keypoints"]) == count


def test_detect_finds_every_annotated_face_of_a_group_photo(client, shared_data):
    """An AFW photo with seven labelled faces: each is found, its points close to the labels."""
    name = "afw_237815567.jpg"
    with open(shared_data / "w300" / "photos" / "keypoints.csv") as f:
        truths = [np.array(row[3:], float).reshape(68, 2) for row in csv.reader(f) if row[2] == name]
    data = (shared_data / "w300" / "photos" / "images" / name).read_bytes()
    found = [np.array(face["keypoints"]) for face in client.post("/api/detect", **upload(data, name)).json()["faces"]]
    assert len(truths) == 7 and len(found) >= 7
    for truth in truths:
        eye_distance = np.linalg.norm(truth[45] - truth[36])
        error = min(np.linalg.norm(points - truth, axis=1).mean() for points in found) / eye_distance
        assert error < 0.1


def test_filter_returns_the_filtered_photo(client, keypointer, photo):
    response = client.post("/api/filter", **upload(photo, filter="sunglasses", format="png"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    expected = read_image(photo)
    load_filter("sunglasses")(expected, keypointer(expected))
    returned = read_image(response.content)
    np.testing.assert_array_equal(returned, expected)
    assert not np.array_equal(returned, read_image(photo))  # the glasses are there


def test_filter_answers_in_the_upload_format_unless_asked(client, photo):
    jpeg = client.post("/api/filter", **upload(photo, filter="moustache"))
    assert jpeg.headers["content-type"] == "image/jpeg" and jpeg.content[:3] == b"\xff\xd8\xff"
    png_photo = encode_image(read_image(photo), ".png")
    png = client.post("/api/filter", **upload(png_photo, "photo.png", filter="hat"))
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_image(png.content).shape == (600, 512, 3)


def test_healthz_lists_what_the_api_offers(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["model"] == "ibug68"
    assert set(health["schemes"]) == {"ibug68", "fkd15", "celeba5"}
    assert health["filters"] == ["sunglasses", "moustache", "hat", "keypoints"]
    assert health["max_upload_bytes"] == 20_000_000


def test_docs_are_served_offline(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/docs/swagger-ui-bundle.js" in docs.text and "/docs/swagger-ui.css" in docs.text
    assert not re.search(r"""(src|href)=["']https?://""", docs.text)
    assert client.get("/docs/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    schema = client.get("/openapi.json").json()
    for path, fields in [("/api/detect", {"image", "scheme"}), ("/api/filter", {"image", "filter", "format"})]:
        body = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert set(body["properties"]) == fields and body["properties"]["image"]["format"] == "binary"


def test_page_loads_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for element in ('id="photo"', 'id="scheme"', 'id="filter"', 'id="table"', 'id="download-json"',
                    'id="download-image"', 'name="viewport"'):
        assert element in page.text
    for asset in ("/", "/page.js", "/page.css"):
        text = client.get(asset).text
        assert not re.search(r"https?://|@import|url\(", text), asset
    assert client.get("/page.js").headers["content-type"].startswith("text/javascript")


# --- refusals: JSON {"detail": one line} ---------------------------------------------------------

def assert_refused(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for word in words:
        assert word in detail


def asgi_post(app, headers: dict[str, str], chunks: int) -> tuple[int, dict, int]:
    """POST a multipart body (a file field's header, then `chunks` MB) straight through ASGI, as a
    server streams it in: returns the status, the JSON answer and how many chunks the app asked for."""
    parts = [b'--x\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n']
    parts += [b"\0" * 1_000_000] * chunks
    asked, answer = 0, {"body": b""}

    async def receive():
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": parts[asked - 1], "more_body": asked < len(parts)}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/detect", "raw_path": b"/api/detect", "query_string": b"", "root_path": "",
             "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
             "headers": [(k.encode(), v.encode()) for k, v in
                         {"content-type": "multipart/form-data; boundary=x", **headers}.items()]}
    asyncio.run(app(scope, receive, send))
    return answer["status"], json.loads(answer["body"]), asked


def test_an_upload_declared_too_large_is_refused_unread(client):
    status, answer, asked = asgi_post(client.app, {"content-length": "25000100"}, chunks=25)
    assert status == 413 and "20 MB" in answer["detail"]
    assert asked == 0


def test_a_streamed_upload_is_refused_as_it_passes_the_limit(client):
    status, answer, asked = asgi_post(client.app, {"transfer-encoding": "chunked"}, chunks=60)
    assert status == 413 and "20 MB" in answer["detail"]
    assert asked == 21  # the header and 20 MB of data: one chunk over the limit, and no further


def test_a_too_large_file_in_a_form_is_refused(client):
    assert_refused(client.post("/api/filter", **upload(b"\xff\xd8" + b"\0" * 20_000_000, filter="hat")), 413)


@pytest.mark.parametrize("data, status, words", [
    (b"%PDF-1.7 not a photo", 415, ["notes.pdf", "not a readable image"]),
    (None, 422, ["notes.pdf", "truncated"]),  # the photo cut short
    (png_claiming(7000, 7000), 422, ["too large to decode safely", "49,000,000 pixels"]),
    (png_claiming(30000, 30000), 422, ["too large to decode safely"]),  # past PIL's own bomb limit
])
def test_bad_images_are_refused(client, photo, data, status, words):
    data = photo[: len(photo) // 3] if data is None else data
    for route, fields in [("/api/detect", {}), ("/api/filter", {"filter": "hat"})]:
        assert_refused(client.post(route, **upload(data, "notes.pdf", **fields)), status, *words)


@pytest.mark.parametrize("request_args, status, words", [
    ({"data": {"scheme": "ibug68"}}, 415, ["multipart/form-data"]),  # a urlencoded form
    ({"content": b"\xff\xd8\xff", "headers": {"content-type": "image/jpeg"}}, 415, ["multipart/form-data"]),
    ({"files": {"photo": ("a.jpg", b"\xff\xd8", "image/jpeg")}}, 422, ["missing file field 'image'"]),
    ({"files": {"image": ("a.jpg", b"", "image/jpeg")}}, 422, ["'image' is empty"]),
    ({"content": b"--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\nabc",
      "headers": {"content-type": "multipart/form-data; boundary=x"}}, 400, ["malformed multipart"]),
])
def test_malformed_requests_are_refused(client, request_args, status, words):
    assert_refused(client.post("/api/detect", **request_args), status, *words)


@pytest.mark.parametrize("route, fields, words", [
    ("/api/detect", {"scheme": "dlib81"}, ["unknown scheme 'dlib81'", "ibug68"]),
    ("/api/filter", {}, ["missing field 'filter'", "sunglasses"]),
    ("/api/filter", {"filter": "clown"}, ["unknown filter 'clown'"]),
    ("/api/filter", {"filter": "../../assets/filters/hat.json"}, ["unknown filter"]),  # never a path
    ("/api/filter", {"filter": "hat", "format": "gif"}, ["unknown format 'gif'"]),
])
def test_unknown_choices_are_refused(client, photo, route, fields, words):
    assert_refused(client.post(route, **upload(photo, **fields)), 422, *words)


def test_a_request_past_its_deadline_gets_504(keypointer, photo):
    with TestClient(create_app(keypointer=SlowKeypointer(keypointer, 1.5), timeout=0.3)) as client:
        start = time.perf_counter()
        assert_refused(client.post("/api/detect", **upload(photo)), 504, "timed out after 0.3 s")
        assert time.perf_counter() - start < 1.2


def test_the_server_answers_while_photos_are_worked_on_and_sheds_load(keypointer, photo):
    """One slow photo holds the only worker: health checks still answer at once, and a request
    beyond max_waiting is refused with 503 instead of queueing (its work never started, nor left
    unawaited)."""
    app = create_app(keypointer=SlowKeypointer(keypointer, 1.0), threads=1, max_waiting=1, timeout=10)
    with warnings.catch_warnings(record=True) as warned, TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        warnings.simplefilter("always")
        slow = pool.submit(client.post, "/api/detect", **upload(photo))
        deadline = time.monotonic() + 5
        while client.get("/healthz").json()["waiting"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.perf_counter()
        assert client.get("/healthz").json()["waiting"] == 1
        assert time.perf_counter() - start < 0.3
        busy = client.post("/api/detect", **upload(photo))
        assert_refused(busy, 503, "busy")
        assert busy.headers["retry-after"] == "1"
        assert slow.result().status_code == 200
        gc.collect()
    assert not [w for w in warned if "never awaited" in str(w.message)]


def test_nothing_is_written_to_disk(client, photo, tmp_path, monkeypatch):
    """A 1.8 MB upload (Starlette would spool anything over 1 MB to a temporary file) through both
    routes: no file is opened for writing, no temporary file made, the temp and working folders stay empty."""
    written = []
    real_open = builtins.open

    def watched_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def refused_temporary(*args, **kwargs):
        written.append("temporary file")
        raise AssertionError("a temporary file was made")

    monkeypatch.setattr(builtins, "open", watched_open)
    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refused_temporary)
    with tempfile.SpooledTemporaryFile(max_size=10) as spool:  # the watch sees a spill to disk
        with pytest.raises(AssertionError):
            spool.write(b"\0" * 100)
    assert written == ["temporary file"]
    written.clear()

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path)
    big = encode_image(cv2.resize(read_image(photo), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), ".png")
    assert len(big) > 1_500_000
    assert client.post("/api/detect", **upload(big, "big.png")).status_code == 200
    assert client.post("/api/filter", **upload(big, "big.png", filter="keypoints")).status_code == 200
    assert written == []
    assert [p.name for p in tmp_path.iterdir()] == ["tmp"] and not any((tmp_path / "tmp").iterdir())


# --- start-up ---------------------------------------------------------------------------------------

def test_worker_processes_build_the_app_from_the_environment(monkeypatch):
    monkeypatch.setenv(CONFIG_VARIABLE, json.dumps({"model": "fkd15", "threads": 1, "timeout": 5}))
    with TestClient(app_from_environment()) as client:
        health = client.get("/healthz").json()
    assert health["model"] == "fkd15" and health["default_scheme"] == "fkd15"


def test_serve_with_a_wrong_model_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "facepoints.cli", "serve", "--model", "nope.onnx"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "nope.onnx: no such model file or run folder" in proc.stderr
    assert "Traceback" not in proc.stderr
