"""``serve`` runs the dashboard in the calling process and returns cleanly on Ctrl-C."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import textwrap

from cta.runtime import wait_for
from cta.testing import listening_socket
from tests.dashboard.test_app import EventStream

SCRIPT = textwrap.dedent(
    """
    import socket, sys, threading
    from cta.dashboard import DashboardState, serve

    class Feed:
        name = "feed"
        def pump(self, timeout=0.0):
            threading.Event().wait(timeout)
            return 0
        def close(self):
            print("feed closed", flush=True)

    state = DashboardState()
    state.apply_station({"station_id": 1, "station_name": "Howard", "order": 0, "line": "red"})
    serve(state, Feed(), sock=socket.socket(fileno=int(sys.argv[1])))
    print("serve returned", flush=True)
    """
)


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def test_serve_shuts_down_on_ctrl_c_with_a_stream_open() -> None:
    # The child serves on a socket bound here, so the port cannot be taken in between.
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(sock.fileno())],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=(sock.fileno(),),
        )
    try:
        wait_for(lambda: _healthy(port) or process.poll() is not None, timeout=20,
                 what="the dashboard to answer")
        assert process.poll() is None, process.communicate()[0]
        stream = EventStream(port)
        assert "Howard" in stream.next_event()["data"]
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
        stream.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "feed closed" in output
    assert output.rstrip().endswith("serve returned")
