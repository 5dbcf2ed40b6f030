"""Requests into a WSGI app, in process, the way a WSGI server hands them over."""

from __future__ import annotations

import io
from collections.abc import Callable
from wsgiref.util import setup_testing_defaults


class CountingInput(io.BytesIO):
    """A request body that counts the bytes the application read of it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.given = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.given += len(chunk)
        return chunk


def environ_for(
    method: str,
    path: str,
    body: str | bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict:
    """The WSGI environ of one request; `headers` by their HTTP names; wsgi.input a CountingInput."""
    raw = body.encode() if isinstance(body, str) else body
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": CountingInput(raw),
        }
    )
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def chunked(environ: dict) -> dict:
    """The same request sent in chunks, as gunicorn hands it over: no Content-Length, the body decoded."""
    environ = {**environ, "HTTP_TRANSFER_ENCODING": "chunked"}
    del environ["CONTENT_LENGTH"]
    return environ


def respond(application: Callable, environ: dict) -> tuple[int, str]:
    """(status, body text) of the application's answer."""
    status = []
    chunks = application(environ, lambda s, h: status.append(s))
    return int(status[0].split()[0]), b"".join(chunks).decode()


def call(
    application: Callable,
    method: str,
    path: str,
    body: str | bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, str]:
    """(status, body text) of one request; `headers` by their HTTP names."""
    return respond(application, environ_for(method, path, body, headers, content_type))
