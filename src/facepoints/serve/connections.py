"""uvicorn's HTTP/1.1 protocol (h11) with two guards that uvicorn does not give.

A connection that sends nothing, or never finishes its request's head, is closed after
REQUEST_HEAD_TIMEOUT seconds: uvicorn times out only idle keep-alive connections, after a response,
so a few hundred silent sockets would otherwise hold the connection limit for as long as their
clients like. And past the connection limit the refusal is the API's JSON 503, not uvicorn's
plain-text one.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol

from facepoints.serve.errors import error_response

REQUEST_HEAD_TIMEOUT = 10.0


class GuardedH11Protocol(H11Protocol):
    """Pass as uvicorn's ``http``; ``limit_concurrency`` is the connection limit, as for uvicorn's own."""

    def __init__(self, config: Config, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        # uvicorn's own check answers in plain text; the `app` property below makes the same check.
        self.connection_limit, self.limit_concurrency = config.limit_concurrency, None
        self._head_deadline: asyncio.TimerHandle | None = None

    @property
    def app(self):
        """The app a new request goes to: a JSON 503 while over the connection limit."""
        limit = self.connection_limit
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            return _busy
        return self._app

    @app.setter
    def app(self, value) -> None:
        self._app = value

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._head_deadline = self.loop.call_later(REQUEST_HEAD_TIMEOUT, self._close_without_head)

    def _close_without_head(self) -> None:
        """Close the connection if its next request has still not been read whole."""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            try:
                self.conn.send(h11.ConnectionClosed())
            except h11.LocalProtocolError:
                pass
            self.transport.close()


async def _busy(scope, receive, send) -> None:
    response = error_response(503, "busy: too many connections are open; try again shortly",
                              {"Retry-After": "1", "Connection": "close"})
    await response(scope, receive, send)
