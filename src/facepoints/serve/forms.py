"""multipart/form-data parsed in memory as it streams in.

Starlette's UploadFile spools anything over 1 MB to a temporary file; the service writes nothing
to disk, so uploads are parsed here with python-multipart into bytes. The body's size is bounded
by UploadLimit, and the number of parts here, so memory per request stays bounded too."""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from facepoints.serve.errors import ApiError

MAX_PARTS = 8
MAX_TEXT_BYTES = 200


@dataclass
class Part:
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class Form(dict[str, Part]):
    def file(self, name: str) -> Part:
        part = self.get(name)
        if part is None or part.filename is None:
            raise ApiError(422, f"missing file field {name!r}: send the photo as multipart/form-data")
        if not part.data:
            raise ApiError(422, f"file field {name!r} is empty")
        return part

    def text(self, name: str, choices: tuple[str, ...], required: bool = False) -> str | None:
        """A text field's value, which must be one of ``choices``."""
        part = self.get(name)
        value = part.data.decode("utf-8", "replace").strip() if part is not None else ""
        if not value:
            if required:
                raise ApiError(422, f"missing field {name!r}: one of {', '.join(choices)}")
            return None
        if value not in choices:
            raise ApiError(422, f"unknown {name} {value[:40]!r}: choose one of {', '.join(choices)}")
        return value


class _Collector:
    """python-multipart's callbacks: each part's name, file name and bytes into a Form."""

    def __init__(self):
        self.form, self.complete = Form(), False
        self._headers: dict[bytes, bytes] = {}
        self._name = self._value = b""
        self._part: Part | None = None

    def callbacks(self) -> dict:
        return {"on_header_field": self.on_header_field, "on_header_value": self.on_header_value,
                "on_header_end": self.on_header_end, "on_headers_finished": self.on_headers_finished,
                "on_part_data": self.on_part_data, "on_end": self.on_end}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name = self._value = b""

    def on_headers_finished(self) -> None:
        _, disposition = parse_options_header(self._headers.pop(b"content-disposition", None))
        self._headers.clear()
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if not name:
            raise ApiError(400, "malformed multipart body: a part has no name")
        if name in self.form:
            raise ApiError(422, f"field {name!r} is given twice")
        if len(self.form) >= MAX_PARTS:
            raise ApiError(422, f"too many fields (more than {MAX_PARTS})")
        filename = disposition.get(b"filename")
        self._part = self.form[name] = Part(filename.decode("utf-8", "replace") if filename is not None else None)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part.data += data[start:end]
        if self._part.filename is None and len(self._part.data) > MAX_TEXT_BYTES:
            raise ApiError(422, f"text fields are at most {MAX_TEXT_BYTES} bytes")

    def on_end(self) -> None:
        self.complete = True


async def read_form(request: Request) -> Form:
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise ApiError(415, "send multipart/form-data with the photo in the file field 'image'")
    collector = _Collector()
    try:
        parser = MultipartParser(options[b"boundary"], collector.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as e:
        raise ApiError(400, f"malformed multipart body ({e})") from None
    if not collector.complete:
        raise ApiError(400, "malformed multipart body: it ends before its closing boundary")
    return collector.form
