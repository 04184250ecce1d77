"""Blocking work (decoding, the models) on a few threads with a deadline per request.

The event loop never waits on a model, so the service keeps answering health checks and new
uploads while photos are processed. The pool bounds how many photos are worked on at once (one
ONNX Runtime thread each, so N threads use N cores); a request past its deadline gets 504 and its
queued work is dropped (work already running finishes, unanswered: threads cannot be stopped), and
when too many are already waiting a new one gets 503 at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from facepoints.serve.errors import ApiError

T = TypeVar("T")


class Runner:
    def __init__(self, threads: int, timeout: float, max_waiting: int):
        self.threads, self.timeout, self.max_waiting = threads, timeout, max_waiting
        self.waiting = 0
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="facepoints")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def run(self, work: Callable[..., T], *args) -> T:
        """``work(*args)`` on the pool."""
        if self._pool is None:
            raise RuntimeError("Runner.start() was not called (the app's lifespan starts it)")
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    async def within_deadline(self, request: Coroutine[Any, Any, T]) -> T:
        """The whole request (reading the upload included) or 504 after ``timeout`` seconds; 503 at
        once when ``max_waiting`` requests are already in. Counting from before the upload is read
        bounds the memory that uploads can hold (max_waiting x the upload limit)."""
        if self.waiting >= self.max_waiting:
            request.close()  # refused before it started: close it rather than leave it never awaited
            raise ApiError(503, f"busy: {self.waiting} photos are waiting; try again shortly", {"Retry-After": "1"})
        self.waiting += 1
        try:
            return await asyncio.wait_for(request, self.timeout)
        except asyncio.TimeoutError:
            raise ApiError(504, f"timed out after {self.timeout:g} s") from None
        finally:
            self.waiting -= 1
