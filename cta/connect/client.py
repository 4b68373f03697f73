"""A requests-based Kafka Connect REST client (the ``ConnectAdmin`` port).

Connect answers 409 while its workers rebalance and 5xx while it starts; both, and connection
errors, are retried with exponential backoff and logged. Other errors raise ``ConnectError`` with
Connect's ``error_code`` and message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

import requests

from cta.http import TRANSPORT_ERRORS
from cta.ports import ConnectorStatus
from cta.retry import Backoff, retry

log = logging.getLogger(__name__)


class ConnectError(RuntimeError):
    def __init__(self, status: int, message: str, error_code: int | None = None) -> None:
        super().__init__(f"Kafka Connect answered {status}: {message}")
        self.status = status
        self.error_code = error_code if error_code is not None else status
        self.message = message


class ConnectorFailed(RuntimeError):
    """The connector or one of its tasks is FAILED; ``trace`` is Connect's stack trace."""

    def __init__(self, status: ConnectorStatus) -> None:
        self.status = status
        self.trace = "\n".join(status.traces) or "(Connect gave no trace)"
        super().__init__(
            f"connector {status.name!r} failed (connector {status.state}, "
            f"tasks {list(status.task_states)}):\n{self.trace}"
        )


class ConnectorTimeout(TimeoutError):
    def __init__(self, name: str, timeout: float, last: ConnectorStatus | None) -> None:
        state = (
            f"connector {last.state}, tasks {list(last.task_states)}"
            if last is not None
            else "connector not found"
        )
        super().__init__(f"connector {name!r} not RUNNING after {timeout}s; last state: {state}")
        self.last = last


RETRIED_STATUSES = frozenset({409, 500, 502, 503, 504})


class ConnectClient:
    def __init__(
        self,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        *,
        attempts: int = 7,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        poll_interval: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._backoff = Backoff(attempts, backoff, max_backoff, sleep)
        self._poll_interval = poll_interval
        self._sleep = sleep

    def apply(self, name: str, config: Mapping[str, str]) -> None:
        body = {key: str(value) for key, value in config.items()}
        response = self._request("PUT", f"/connectors/{quote(name, safe='')}/config", body)
        self._raise_for(response, ok=(200, 201))
        log.info("connector %s %s", name, "created" if response.status_code == 201 else "updated")

    def status(self, name: str) -> ConnectorStatus:
        response = self._request("GET", f"/connectors/{quote(name, safe='')}/status")
        self._raise_for(response, ok=(200,))
        return parse_status(name, response.json())

    def wait_running(self, name: str, timeout: float = 60.0) -> ConnectorStatus:
        deadline = time.monotonic() + timeout
        last: ConnectorStatus | None = None
        while True:
            try:
                last = self.status(name)
            except ConnectError as exc:
                # Just after a PUT the status can 404 for a moment: keep waiting.
                if exc.status != 404:
                    raise
            if last is not None:
                if last.state == "FAILED" or "FAILED" in last.task_states:
                    raise ConnectorFailed(last)
                if last.running:
                    return last
            if time.monotonic() >= deadline:
                raise ConnectorTimeout(name, timeout, last)
            self._sleep(self._poll_interval)

    def delete(self, name: str) -> None:
        response = self._request("DELETE", f"/connectors/{quote(name, safe='')}")
        if response.status_code == 404:
            return
        self._raise_for(response, ok=(200, 204))

    def connectors(self) -> list[str]:
        response = self._request("GET", "/connectors")
        self._raise_for(response, ok=(200,))
        names = response.json()
        if not isinstance(names, list):
            raise ConnectError(response.status_code, f"unexpected body {names!r}")
        return [str(name) for name in names]

    def _request(self, method: str, path: str, body: Any = None) -> requests.Response:
        url = self._base + path
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        send = partial(
            self._session.request, method, url, data=data, headers=headers, timeout=self._timeout
        )
        try:
            return retry(
                send,
                backoff=self._backoff,
                describe=f"{method} {url}",
                log=log,
                retry_on=TRANSPORT_ERRORS,
                retry_if=_busy,
            )
        except TRANSPORT_ERRORS as exc:
            raise ConnectError(0, f"{method} {url} unreachable: {exc}") from exc

    @staticmethod
    def _raise_for(response: requests.Response, ok: tuple[int, ...]) -> None:
        if response.status_code in ok:
            return
        error_code: int | None = None
        try:
            payload = response.json()
            if isinstance(payload, dict):
                error_code = payload.get("error_code")
        except ValueError:
            pass
        raise ConnectError(response.status_code, _message(response), error_code)


def _busy(response: requests.Response) -> str | None:
    """Why an answer is worth retrying (rebalancing or starting), or None."""
    if response.status_code not in RETRIED_STATUSES:
        return None
    return f"answered {response.status_code} ({_message(response)})"


def _message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:500] or response.reason or ""
    if isinstance(payload, dict) and "message" in payload:
        return str(payload["message"])
    return str(payload)[:500]


def parse_status(name: str, payload: Any) -> ConnectorStatus:
    """``GET /connectors/{name}/status`` -> ConnectorStatus (traces of failed parts)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("connector"), dict):
        raise ConnectError(200, f"unexpected status body {payload!r}")
    connector = payload["connector"]
    tasks = sorted(payload.get("tasks") or [], key=lambda task: int(task.get("id", 0)))
    traces = [str(connector["trace"])] if connector.get("trace") else []
    traces += [f"task {task.get('id')}: {task['trace']}" for task in tasks if task.get("trace")]
    return ConnectorStatus(
        name=str(payload.get("name", name)),
        state=str(connector.get("state", "UNASSIGNED")),
        task_states=tuple(str(task.get("state", "UNASSIGNED")) for task in tasks),
        traces=tuple(traces),
    )
