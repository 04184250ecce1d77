"""The service under hostile uploads and connections (issue #24): it never stalls, /healthz says
when its workers are held, and every refusal is JSON. Real servers listen on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import hostile_files as hostile
import httpx
import pytest
from test_serve import SlowKeypointer, upload

from facepoints.commands.detect import example_photo
from facepoints.inference import FaceKeypointer
from facepoints.serve import create_app

with warnings.catch_warnings():  # Starlette now prefers httpx2 for its test client; httpx works the same
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def keypointer():
    return FaceKeypointer(threads=1)


@pytest.fixture(scope="module")
def client(keypointer):
    with TestClient(create_app(keypointer=keypointer, threads=2), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def photo() -> bytes:
    return example_photo().read_bytes()


def assert_json_refusal(response, status: int, *words: str) -> None:
    assert response.status_code == status, (response.status_code, response.headers.get("content-type"), response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for word in words:
        assert word in detail, detail


@contextlib.contextmanager
def served(*options: str, cores: int | None = None):
    """`facepoints serve` on a free loopback port (on at most ``cores`` cores, which sets its worker
    threads), as a user starts it; yields its base URL, and stops it however the test ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chosen = sorted(os.sched_getaffinity(0))[:cores] if cores else None
    env = {k: v for k, v in os.environ.items() if k != "FACEPOINTS_DEBUG"}
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "facepoints.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *options],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, chosen)) if chosen else None)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- 1. a JPEG of endless empty scans ---------------------------------------------------------

def test_endless_scan_jpegs_do_not_hold_the_workers(photo):
    """issue #24 item 1: two 356 KB progressive JPEGs with 20,000 empty scans each held both worker
    threads for minutes after their 504s: every normal request then got 504 too. The upload is
    refused (or its decode stopped at the deadline), and a normal photo right after is answered."""
    evil = hostile.endless_scans_jpeg()
    with served("--timeout", "3", "--model", "ibug68-fast", cores=2) as url, ThreadPoolExecutor(2) as pool:
        threads = min(2, len(os.sched_getaffinity(0)))
        attacks = [pool.submit(httpx.post, f"{url}/api/detect", timeout=30, **upload(evil, "scans.jpg"))
                   for _ in range(threads)]
        for attack in attacks:
            response = attack.result()
            assert response.status_code in (422, 504), response.text
            assert response.headers["content-type"].startswith("application/json")
        normal = httpx.post(f"{url}/api/detect", timeout=30, **upload(photo))
        assert normal.status_code == 200, (normal.status_code, normal.text)
        assert len(normal.json()["faces"]) == 1


def test_healthz_reports_workers_held_by_abandoned_work(keypointer, photo):
    """issue #24 item 1: after a request's 504, its work still holds a worker thread, yet /healthz
    said `"waiting": 0`. It reports busy workers (`"busy"`), abandoned work included."""
    app = create_app(keypointer=SlowKeypointer(keypointer, 1.5), threads=1, timeout=0.3)
    with TestClient(app) as client:
        assert client.get("/healthz").json().get("busy") == 0
        assert_json_refusal(client.post("/api/detect", **upload(photo)), 504, "timed out")
        health = client.get("/healthz").json()
        assert health["waiting"] == 0 and health.get("busy") == 1, health
        deadline = time.monotonic() + 5
        while client.get("/healthz").json().get("busy") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/healthz").json().get("busy") == 0


# --- 2. idle connections ------------------------------------------------------------------

def test_idle_connections_do_not_lock_everyone_out():
    """issue #24 item 2: 257 idle TCP connections (or ones that never finish their headers) made
    every request, /healthz included, get a plain-text 503 for as long as they stayed open. Such
    connections time out, and every 503 meanwhile is JSON."""
    with served("--model", "ibug68-fast") as url:
        port = int(url.rsplit(":", 1)[1])
        idle = []
        try:
            for index in range(257):
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                if index % 2:  # headers begun, never finished
                    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                idle.append(connection)
            time.sleep(0.5)
            deadline, answered = time.monotonic() + 20, None
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    response = httpx.get(f"{url}/healthz", timeout=5)
                    if response.status_code == 503:
                        assert_json_refusal(response, 503)
                    if response.status_code == 200:
                        answered = time.monotonic()
                        break
                time.sleep(0.5)
            assert answered is not None, "/healthz never answered while idle connections were open"
            open_ones = [c for c in idle if not _closed_by_server(c, deadline)]
            assert not open_ones, f"{len(open_ones)} of {len(idle)} idle connections still open after 20 s"
        finally:
            for connection in idle:
                connection.close()


def _closed_by_server(connection: socket.socket, deadline: float) -> bool:
    """Whether the server closes (or resets) the connection before ``deadline``; whatever it sends first is read."""
    connection.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        while connection.recv(65536):
            pass
        return True
    except ConnectionError:
        return True
    except TimeoutError:
        return False


# --- 6 and 13, the service's side: broken images are 422 --------------------------------------

def test_a_crafted_tiff_upload_is_422_not_500(client):
    """issue #24 item 6: the TIFF whose StripOffsets tag type was changed from 4 to 7 got 500."""
    for route, fields in [("/api/detect", {}), ("/api/filter", {"filter": "hat"})]:
        assert_json_refusal(client.post(route, **upload(hostile.crafted_tiff(), "evil.tif", **fields)), 422, "evil.tif")


def test_a_png_with_a_bad_crc_is_422_not_415(client):
    """issue #24 item 13: a PNG with a bad CRC is a broken PNG (422), not an unknown format (415)."""
    assert_json_refusal(client.post("/api/detect", **upload(hostile.png_with_bad_crc(), "bad.png")), 422, "bad.png")


def test_a_jpeg_claiming_more_pixels_than_it_holds_is_422_truncated(client):
    """issue #24 item 13: a JPEG claiming 6000x6000 over 312x270 of data was accepted, grey-filled (200)."""
    response = client.post("/api/detect", **upload(hostile.jpeg_claiming(6000, 6000), "short.jpg"))
    assert_json_refusal(response, 422, "short.jpg", "truncated")
