"""``python -m cta.rest_proxy`` started on a free port, for tests that need the real socket."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence

import requests

from cta.runtime import wait_for
from cta.stack.config import free_ports

# The Avro produce of Confluent's REST Proxy quick start (v2), as the documentation writes it:
# curl -X POST -H "Content-Type: application/vnd.kafka.avro.v2+json" \
#   -H "Accept: application/vnd.kafka.v2+json" --data '<QUICK_START_BODY>' \
#   "http://localhost:8082/topics/avrotest"
QUICK_START_HEADERS = {
    "Content-Type": "application/vnd.kafka.avro.v2+json",
    "Accept": "application/vnd.kafka.v2+json",
}
QUICK_START_BODY = (
    '{"value_schema": "{\\"type\\": \\"record\\", \\"name\\": \\"User\\", \\"fields\\": '
    '[{\\"name\\": \\"name\\", \\"type\\": \\"string\\"}]}", '
    '"records": [{"value": {"name": "testUser"}}]}'
)


def free_port() -> int:
    (port,) = free_ports(1)
    return port


class ServedProxy:
    def __init__(self, extra_args: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: a chatty server (librdkafka logs) never blocks on a full pipe.
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cta.rest_proxy", "--port", str(self.port), *extra_args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            wait_for(
                lambda: self._answers() or self.process.poll() is not None,
                timeout=60,
                interval=0.1,
                what="the REST Proxy to answer",
            )
        except BaseException:
            self.stop()
            raise
        if self.process.poll() is not None:
            raise RuntimeError(f"REST Proxy exited: {self.output()}")

    def _answers(self) -> bool:
        """Any HTTP answer counts: with a dependency away the proxy answers, with an error."""
        try:
            requests.get(f"{self.url}/topics", timeout=30)
        except requests.RequestException:
            return False
        return True

    def raw(self, request: bytes, *, timeout: float = 10.0) -> bytes:
        """Send ``request`` as is on a fresh connection; what comes back until the server
        closes it or the first response is complete."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = b""
            while b"\r\n\r\n" not in chunks:
                chunk = sock.recv(65536)
                if not chunk:
                    return chunks
                chunks += chunk
            head, _, body = chunks.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            return head + b"\r\n\r\n" + body

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read()[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
