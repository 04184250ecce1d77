"""Load test of `facepoints serve` on loopback: requests per second and latency with concurrent clients.

    python benchmarks/serve_load.py --clients 16 --requests 800 --max-seconds 120 [--workers 1] [--out runs/serve_load.json]

Starts the real command (`facepoints serve`, uvicorn, --workers processes) on a free loopback
port, waits for /healthz, then --clients clients (httpx.AsyncClient, one process) post the bundled
example photo to /api/detect until --requests have been sent or --max-seconds have passed, and
stops the server. A request fails unless it gets 200 and the photo's one face. The clients run
on the same cores as the server, as a busy machine's own users would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from facepoints.commands.detect import example_photo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*args: str, start_seconds: float = 60.0):
    """`facepoints serve ARGS` on a free loopback port; yields its base URL, stops it on exit."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "facepoints.cli", "serve", "--port", str(port), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"facepoints serve exited with {process.returncode}: {process.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"facepoints serve did not answer within {start_seconds:g} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def load(url: str, photo: bytes, clients: int, requests: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    sent = 0

    async def one(client: httpx.AsyncClient) -> None:
        start = time.perf_counter()
        try:
            response = await client.post("/api/detect", files={"image": ("photo.jpg", photo, "image/jpeg")})
            ok = response.status_code == 200 and len(response.json()["faces"]) == 1
            if not ok:
                failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
        except httpx.HTTPError as e:
            failures.append(f"{type(e).__name__}: {e}")
        latencies.append(time.perf_counter() - start)

    async def client_loop(client: httpx.AsyncClient, stop_at: float) -> None:
        nonlocal sent
        while sent < requests and time.perf_counter() < stop_at:
            sent += 1
            await one(client)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as client:
        await asyncio.gather(*(one(client) for _ in range(clients)))  # warm-up: connections, first calls
        latencies.clear()
        failures.clear()
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client, start + max_seconds) for _ in range(clients)))
        seconds = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "clients": clients, "requests": len(latencies), "failures": len(failures), "failure_examples": failures[:3],
        "seconds": round(seconds, 2), "requests_per_second": round(len(latencies) / seconds, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 1), "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=800, help="Stop after this many requests ...")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="... or after this long.")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (facepoints serve --workers).")
    parser.add_argument("--out", type=Path, help="Also write the summary here (JSON).")
    args = parser.parse_args()

    photo = example_photo().read_bytes()
    with running_server("--workers", str(args.workers)) as url:
        result = asyncio.run(load(url, photo, args.clients, args.requests, args.max_seconds))
    result.update(workers=args.workers, cores=len(os.sched_getaffinity(0)), photo=f"{example_photo().name} (512x600)",
                  load_average_after=[round(v, 2) for v in os.getloadavg()])
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
