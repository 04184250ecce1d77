"""The web page and HTTP API (`facepoints serve`): photos in, keypoints or filtered photos out.

    from facepoints.serve import create_app
    app = create_app()          # an ASGI app for uvicorn; the model is loaded once and shared

Uploads are read into memory only, size-limited as they stream in, decoded and run on a small
thread pool with a deadline, so the event loop keeps answering while the models work.
"""

from facepoints.serve.app import create_app

__all__ = ["create_app"]
