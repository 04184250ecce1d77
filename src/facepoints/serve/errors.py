"""Failures of a request, answered as JSON ``{"detail": "one line"}`` with a fitting status."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    """A request the service refuses: the status code and a one-line reason fit for the user."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)
