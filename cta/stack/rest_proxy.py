"""Our REST Proxy v2 subset (``python -m cta.rest_proxy``), run as one more stack process."""

from __future__ import annotations

import importlib.util
import sys

import requests

from cta.stack.config import PROJECT_DIR, StackConfig
from cta.stack.service import Service

NAME = "rest-proxy"
MODULE = "cta.rest_proxy.__main__"


def missing_reason() -> str | None:
    """None when the server module is installed; else why the service is skipped."""
    try:
        found = importlib.util.find_spec(MODULE) is not None
    except ModuleNotFoundError:
        found = False
    return None if found else f"{MODULE} does not exist yet"


def healthy(url: str, timeout: float = 3.0) -> bool:
    return requests.get(f"{url}/topics", timeout=timeout).status_code == 200


def service(config: StackConfig) -> Service:
    endpoints = config.endpoints()
    return Service(
        name=NAME,
        command=[
            sys.executable,
            "-m",
            "cta.rest_proxy",
            "--port",
            str(config.rest_proxy_port),
            "--bootstrap-servers",
            endpoints.bootstrap_servers,
            "--schema-registry-url",
            endpoints.schema_registry_url,
        ],
        health=lambda: healthy(endpoints.rest_proxy_url),
        log_file=config.logs_dir / f"{NAME}.log",
        depends_on=("kafka", "registry"),
        env={"PYTHONUNBUFFERED": "1"},
        cwd=PROJECT_DIR,
        unavailable=missing_reason(),
        port=config.rest_proxy_port,
    )
