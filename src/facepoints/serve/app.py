"""The FastAPI app: the page, the two API routes, health and offline API docs."""

from __future__ import annotations

import contextlib
import json
import os
from importlib import resources

import numpy as np
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import JSONResponse, Response

from facepoints.version import __version__
from facepoints.draw import encode_image
from facepoints.errors import FacepointsError, UnsupportedImageError
from facepoints.filters import FILTER_NAMES, load_filter
from facepoints.imageio import DEFAULT_MAX_PIXELS, read_image
from facepoints.inference import FaceKeypointer, image_json
from facepoints.options import KeypointerOptions
from facepoints.sessions import available_cores
from facepoints.serve.errors import ApiError, error_response
from facepoints.serve.forms import read_form
from facepoints.serve.limits import UploadLimit
from facepoints.serve.runner import Runner

MAX_UPLOAD_BYTES = 20_000_000
FORMATS = {"png": (".png", "image/png"), "jpeg": (".jpg", "image/jpeg")}
CONFIG_VARIABLE = "FACEPOINTS_SERVE"  # create_app's arguments as JSON, for uvicorn's worker processes
# The page loads nothing from elsewhere and runs no inline code.
PAGE_POLICY = ("default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
PAGE_FILES = {"/": ("index.html", "text/html; charset=utf-8"), "/page.js": ("page.js", "text/javascript"),
              "/page.css": ("page.css", "text/css")}
DOCS_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}


def _form_body(fields: dict, required: list[str]) -> dict:
    """OpenAPI for a multipart body the route parses itself (see forms.py for why)."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": fields, "required": required}}}}}


def _errors(*codes: int) -> dict:
    reasons = {400: "Malformed multipart body", 413: "Upload over the size limit",
               415: "Not multipart/form-data, or not an image", 422: "Broken or oversized image, missing or unknown field",
               503: "Too many photos waiting", 504: "Past the per-request deadline"}
    schema = {"type": "object", "properties": {"detail": {"type": "string"}}}
    return {c: {"description": reasons[c], "content": {"application/json": {"schema": schema}}} for c in codes}


def create_app(options: KeypointerOptions | None = None, *, keypointer: FaceKeypointer | None = None,
               threads: int | None = None, timeout: float = 30.0, max_waiting: int = 64,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS, **settings) -> FastAPI:
    """The service as an ASGI app. The keypointer is made once (or given) and shared by all
    requests; it is made from ``options``, or its fields as keywords (``model="ibug68-fast"``), as
    FaceKeypointer takes them. A request's scheme, where it names one, replaces the options'.

    threads: photos worked on at once (default: the cores this process may use), each running the
    models on one thread; timeout: seconds per request, reading the upload included; max_waiting:
    requests in (uploading, waiting or worked on) before 503.
    """
    threads = threads or available_cores()
    # One ONNX Runtime thread per photo: the pool, not each model call, spreads work over the cores.
    keypointer = keypointer or FaceKeypointer(options=options, **settings, threads=1)
    filters = {name: load_filter(name) for name in FILTER_NAMES}
    schemes = tuple(keypointer.schemes_given())
    runner = Runner(threads, timeout, max_waiting)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        runner.start()
        # The first detection initialises the detector's weights: do it before requests race to it.
        await runner.run(keypointer, np.zeros((64, 64, 3), np.uint8))
        yield
        runner.close()

    app = FastAPI(title="facepoints", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Facial keypoints for every face in a photo, and face filters. "
                              "Uploads are kept in memory only; errors are JSON `{\"detail\": \"...\"}`.")
    app.add_middleware(UploadLimit, max_bytes=max_upload_bytes)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.detail, error.headers)

    @app.exception_handler(FacepointsError)
    async def user_error(request: Request, error: FacepointsError) -> JSONResponse:
        return error_response(415 if isinstance(error, UnsupportedImageError) else 422, str(error))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:  # the server logs the traceback
        return error_response(500, f"internal error ({type(error).__name__})")

    def decode(part) -> np.ndarray:
        return read_image(bytes(part.data), max_pixels=max_pixels, name=(part.filename or "image")[:100])

    def detect_work(part, scheme: str | None) -> dict:
        image = decode(part)
        return image_json(image, keypointer(image, scheme=scheme))

    def filter_work(part, effect, suffix: str) -> bytes:
        image = decode(part)
        effect(image, keypointer(image))
        return encode_image(image, suffix)

    async def detect_request(request: Request) -> JSONResponse:
        form = await read_form(request)
        image = form.file("image")
        scheme = form.text("scheme", schemes)
        return JSONResponse(await runner.run(detect_work, image, scheme))

    async def filter_request(request: Request) -> Response:
        form = await read_form(request)
        image = form.file("image")
        effect = filters[form.text("filter", FILTER_NAMES, required=True)]
        chosen = form.text("format", tuple(FORMATS)) or ("jpeg" if image.data.startswith(b"\xff\xd8") else "png")
        suffix, media = FORMATS[chosen]
        return Response(await runner.run(filter_work, image, effect, suffix), media_type=media)

    @app.post("/api/detect", summary="Keypoints of every face in a photo", responses=_errors(400, 413, 415, 422, 503, 504),
              openapi_extra=_form_body({
                  "image": {"type": "string", "format": "binary", "description": "The photo (JPEG, PNG, WebP, BMP, TIFF, GIF)"},
                  "scheme": {"type": "string", "enum": list(schemes), "description": "Keypoints to report (default: the model's)"},
              }, ["image"]))
    async def detect(request: Request) -> JSONResponse:
        """`{"width", "height", "faces": [{"box", "score", "scheme", "keypoints", "names", "confidence",
        "pose", "openness"}]}`, as `facepoints detect` writes for one image; keypoints are pixel centres
        of the upright photo."""
        return await runner.within_deadline(detect_request(request))

    @app.post("/api/filter", summary="The photo with a filter on every face", responses={
                  200: {"content": {"image/png": {}, "image/jpeg": {}}}, **_errors(400, 413, 415, 422, 503, 504)},
              openapi_extra=_form_body({
                  "image": {"type": "string", "format": "binary", "description": "The photo"},
                  "filter": {"type": "string", "enum": list(FILTER_NAMES)},
                  "format": {"type": "string", "enum": list(FORMATS), "description": "Default: JPEG for a JPEG upload, else PNG"},
              }, ["image", "filter"]))
    async def filter_photo(request: Request) -> Response:
        """The filtered photo, upright, at its full size."""
        return await runner.within_deadline(filter_request(request))

    @app.get("/healthz", summary="Liveness, and what the API offers")
    async def healthz() -> dict:
        return {"status": "ok", "model": keypointer.model.path.stem, "schemes": list(schemes),
                "default_scheme": keypointer.options.scheme or keypointer.model.scheme.name,
                "filters": list(FILTER_NAMES), "max_upload_bytes": max_upload_bytes, "waiting": runner.waiting,
                "busy": runner.busy}

    _add_page(app)
    _add_docs(app)
    return app


def app_from_environment() -> FastAPI:
    """uvicorn's factory for worker processes: `facepoints serve --workers N` passes the options here."""
    return create_app(**json.loads(os.environ[CONFIG_VARIABLE]))


def _static(body: bytes, media: str, headers: dict[str, str] | None = None):
    """A route answering fixed bytes read at start-up: no request path ever reaches the file system."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache", **(headers or {})}

    async def serve_bytes() -> Response:
        return Response(body, media_type=media, headers=headers)

    return serve_bytes


def _add_page(app: FastAPI) -> None:
    page = resources.files("facepoints.serve") / "page"
    for route, (name, media) in PAGE_FILES.items():
        app.add_api_route(route, _static((page / name).read_bytes(), media, {"Content-Security-Policy": PAGE_POLICY}),
                          include_in_schema=False)


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the files fastapi-offline ships: FastAPI's default loads them from a CDN."""
    static = resources.files("fastapi_offline") / "static"
    for name, media in DOCS_FILES.items():
        app.add_api_route(f"/docs/{name}", _static((static / name).read_bytes(), media), include_in_schema=False)

    async def docs() -> Response:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="facepoints API",
                                   swagger_js_url="/docs/swagger-ui-bundle.js", swagger_css_url="/docs/swagger-ui.css",
                                   swagger_favicon_url="/docs/favicon.png")

    app.add_api_route("/docs", docs, include_in_schema=False)
