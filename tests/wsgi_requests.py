"""Requests into a WSGI app, in process, the way a WSGI server hands them over."""

from __future__ import annotations

import io
from collections.abc import Callable
from wsgiref.util import setup_testing_defaults


def call(
    application: Callable,
    method: str,
    path: str,
    body: str | bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, str]:
    """(status, body text) of one request; `headers` by their HTTP names."""
    raw = body.encode() if isinstance(body, str) else body
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
        }
    )
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status = []
    chunks = application(environ, lambda s, h: status.append(s))
    return int(status[0].split()[0]), b"".join(chunks).decode()
