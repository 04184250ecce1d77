"""`facepoints serve`: the web page and HTTP API (FastAPI on uvicorn)."""

from __future__ import annotations

import json
import os

import typer

from facepoints.commands.options import DETECT_SIZE, FLIP_TEST, THRESHOLD, model_option
from facepoints.options import KeypointerOptions


CONNECTION_LIMIT = 256


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, min=0, max=65535),
    workers: int = typer.Option(1, min=1, help="Server processes, each with its own copy of the model."),
    model: str = model_option(KeypointerOptions.model, help="Keypoint model: bundled name (ibug68; ibug68-fast: faster per face, slightly less accurate; ibug68-tiny: faster still), model.onnx or run folder."),
    threshold: float = THRESHOLD,
    detect_size: int = DETECT_SIZE,
    flip_test: bool = FLIP_TEST,
    timeout: float = typer.Option(30.0, min=0.1, help="Seconds a request may take, upload included (then 504)."),
):
    """Serve the page at / and the API at /api (docs at /docs) until Ctrl-C."""
    import uvicorn  # a missing [serve] extra is named by user_errors

    from facepoints.serve.app import CONFIG_VARIABLE, create_app
    from facepoints.serve.connections import GuardedH11Protocol
    from facepoints.runtime import resolve_model_path
    from facepoints.sessions import available_cores

    resolve_model_path(model)  # a wrong --model is one line here, not a traceback in each worker
    # create_app's keywords: KeypointerOptions fields and the pool's; plain data, so that worker processes get them as JSON.
    settings = dict(model=model, threshold=threshold, detect_size=detect_size, flip_test=flip_test, timeout=timeout,
                    threads=max(1, available_cores() // workers))
    # Connections past the limit get 503 before any upload is read; silent ones are closed.
    limits = dict(host=host, port=port, limit_concurrency=CONNECTION_LIMIT, http=GuardedH11Protocol)
    if workers == 1:
        uvicorn.run(create_app(**settings), **limits)
    else:
        os.environ[CONFIG_VARIABLE] = json.dumps(settings)
        uvicorn.run("facepoints.serve.app:app_from_environment", factory=True, workers=workers, **limits)
