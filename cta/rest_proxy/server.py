"""The REST Proxy served by Sanic: ``RestProxyApp`` (a blocking ``cta.http`` handler) behind a
real socket.

Sanic refuses a body over ``REQUEST_MAX_SIZE`` from its ``Content-Length`` header (or as soon as
a chunked body passes it), before the body is read; every error Sanic raises itself (413, 404,
405, a malformed request) is answered here in the v2 error shape with ``error_code`` = the HTTP
status, as Confluent's proxy does for its generic errors. The handler runs in a worker thread,
so a produce waiting on the broker never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from urllib.parse import parse_qs

from sanic import Request, Sanic
from sanic.config import Config
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from cta.http import Handler, HttpRequest
from cta.rest_proxy.app import DEFAULT_MAX_BODY_BYTES, V2_JSON, body_too_large

log = logging.getLogger(__name__)

ProxyServer = Sanic[Config, SimpleNamespace]
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


def _v2_error(status: int, error_code: int, message: str) -> HTTPResponse:
    return json_response(
        {"error_code": error_code, "message": message}, status=status, content_type=V2_JSON
    )


def create_server(
    handler: Handler, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, name: str = "cta-rest-proxy"
) -> ProxyServer:
    app: ProxyServer = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = max_body_bytes
    app.config.KEEP_ALIVE_TIMEOUT = 30

    async def dispatch(request: Request, path: str = "") -> HTTPResponse:
        call = HttpRequest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers.items()),
            body=request.body or b"",
            query=parse_qs(request.query_string),
        )
        answer = await asyncio.get_running_loop().run_in_executor(None, handler, call)
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-type"}
        content_type = answer.headers.get("Content-Type", V2_JSON)
        return HTTPResponse(
            answer.body, status=answer.status, headers=headers, content_type=content_type
        )

    app.add_route(dispatch, "/", methods=METHODS, name="root")
    app.add_route(dispatch, "/<path:path>", methods=METHODS, name="any")

    @app.exception(PayloadTooLarge)
    async def too_large(request: Request, exc: PayloadTooLarge) -> HTTPResponse:
        return _v2_error(413, 413, body_too_large(max_body_bytes))

    @app.exception(SanicException)
    async def refused(request: Request, exc: SanicException) -> HTTPResponse:
        status = int(exc.status_code or 500)
        return _v2_error(status, status, f"HTTP {status}: {exc}")

    @app.exception(Exception)
    async def failed(request: Request, exc: Exception) -> HTTPResponse:
        log.exception("REST Proxy server: %s %s failed", request.method, request.path)
        return _v2_error(500, 500, f"Internal server error: {type(exc).__name__}: {exc}")

    return app


def run(app: ProxyServer, host: str, port: int) -> None:
    """Serve in this process until stopped (Ctrl-C / SIGTERM shut it down cleanly)."""
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
