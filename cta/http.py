"""A tiny HTTP seam shared by the service emulators and their requests-based clients.

Emulators (REST Proxy, Connect, ksqlDB) are written as ``Handler`` functions of ``HttpRequest``.
The memory backend mounts them on a ``requests.Session`` with ``InProcessTransport`` (no socket);
``serve`` puts the same handler behind a real HTTP server (our standalone REST Proxy).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

# What a requests call raises when the server could not be reached or did not answer in time:
# the failures every client retries, as opposed to an answer it has to judge.
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    query: Mapping[str, list[str]] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return cls(
            status,
            json.dumps(payload).encode("utf-8"),
            {"Content-Type": content_type, **(headers or {})},
        )


Handler = Callable[[HttpRequest], HttpResponse]


class InProcessTransport(BaseAdapter):
    """A requests transport that hands each request to an in-process handler."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self._handler = handler

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **_: Any
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer = self._handler(
            HttpRequest(
                method=request.method or "GET",
                path=url.path or "/",
                headers=dict(request.headers),
                body=body,
                query=parse_qs(url.query),
            )
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def in_process_session(base_url: str, handler: Handler) -> requests.Session:
    session = requests.Session()
    session.mount(base_url, InProcessTransport(handler))
    return session


class _RequestHandler(BaseHTTPRequestHandler):
    handler: Handler
    protocol_version = "HTTP/1.1"

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        url = urlsplit(self.path)
        answer = self.handler(
            HttpRequest(
                method=self.command,
                path=url.path,
                headers=dict(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
                query=parse_qs(url.query),
            )
        )
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(handler: Handler, host: str, port: int) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``handler`` on host:port in a daemon thread; ``server.shutdown()`` stops it."""
    request_handler = type("BoundHandler", (_RequestHandler,), {"handler": staticmethod(handler)})
    server = ThreadingHTTPServer((host, port), request_handler)
    thread = threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True)
    thread.start()
    return server, thread
