"""The board's /events fan-out under N clients on loopback, while the simulation runs.

    .venv/bin/python bench/dashboard_fanout.py --clients 1000 [--seconds 30] [--workers 2]
    .venv/bin/python bench/dashboard_fanout.py --clients 300 --url http://127.0.0.1:8888 \\
        --server-pid 12345

Without ``--url`` it starts ``cta demo --backend memory`` on a free loopback port (the whole 'L',
the demo's speed; ``--demo-arg`` passes more) and stops it at the end. ``--workers`` client
processes (plain asyncio protocols, no HTTP library) open the streams, at most 64 connects at a
time each, and wait until every client has its first snapshot; then the window runs. For each
version first seen in the window it records when each client received its ``id:`` line
(CLOCK_MONOTONIC, shared by the processes). Meanwhile this process asks ``/healthz`` every 100 ms.

Printed: the load (``uptime``) before and after; per client updates/s and bytes/s; whether every
client received every version; the fan-out spread (last client's receipt of a version minus the
first's) p50/p99/max; snapshots sent instead of deltas to clients that fell behind; the server's
CPU (psutil if installed, else /proc), the clients' and the machine's; /healthz latency; and the
targets (1,000 clients: every version to every client, spread p99 < 250 ms; 5,000: p99 < 1 s;
/healthz < 100 ms throughout) with PASS/FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ID_LINE = re.compile(rb"id: [0-9a-f]+-(\d+)\nevent: (\w+)\n")
CONNECTS_AT_ONCE = 64  # per worker: the server's listen backlog is 100
FD_MARGIN = 200

# --- client processes -----------------------------------------------------------------------


@dataclass
class Tally:
    """One worker's receipts in the window: version -> [clients, first, last]."""

    window: tuple[float, float] = (float("inf"), float("inf"))
    versions: dict[int, list[float]] = field(default_factory=dict)


class Client(asyncio.Protocol):
    def __init__(self, tally: Tally, request: bytes) -> None:
        self.tally = tally
        self.request = request
        self.buffer = b""
        self.events = 0
        self.snapshots = 0
        self.window_events = 0
        self.window_bytes = 0
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        start, end = self.tally.window
        in_window = start <= now <= end
        if in_window:
            self.window_bytes += len(data)
        self.buffer += data
        last = 0
        for match in ID_LINE.finditer(self.buffer):
            last = match.end()
            self.events += 1
            if match.group(2) == b"snapshot":
                self.snapshots += 1
            if in_window:
                self.window_events += 1
                seen = self.tally.versions.setdefault(int(match.group(1)), [0, now, now])
                seen[0] += 1
                seen[1] = min(seen[1], now)
                seen[2] = max(seen[2], now)
        # Keep what may hold the start of an id line cut by this read, never one matched.
        self.buffer = self.buffer[max(last, len(self.buffer) - 256) :]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


async def run_clients(host: str, port: int, count: int, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    tally = Tally()
    request = f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
    clients: list[Client] = []
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def open_one() -> None:
        async with gate:
            for attempt in range(20):
                try:
                    client = Client(tally, request.encode())
                    await loop.create_connection(lambda c=client: c, host, port)  # type: ignore[misc]
                    clients.append(client)
                    return
                except OSError:
                    await asyncio.sleep(0.1 * (attempt + 1))
            raise ConnectionError("could not connect")

    await asyncio.gather(*(open_one() for _ in range(count)))
    while sum(client.events > 0 for client in clients) < count:
        await asyncio.sleep(0.05)
    pipe.send("ready")
    start, end = await loop.run_in_executor(None, pipe.recv)
    tally.window = (start, end)
    late = max(0.0, time.monotonic() - start)  # receipts before this were not counted
    await asyncio.sleep(max(0.0, end - time.monotonic()) + 0.1)
    pipe.send({
        "versions": tally.versions,
        "events": [client.window_events for client in clients],
        "bytes": [client.window_bytes for client in clients],
        "resets": sum(max(0, client.snapshots - 1) for client in clients),
        "lost": sum(client.lost for client in clients),
        "cpu": cpu_seconds(os.getpid()),
        "late": late,
    })  # fmt: skip


def client_process(host: str, port: int, count: int, pipe: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends us
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(run_clients(host, port, count, pipe))


# --- measuring ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    try:
        import psutil  # type: ignore[import-not-found,import-untyped,unused-ignore]

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def poll_healthz(host: str, port: int, until: float) -> list[float]:
    latencies = []
    while time.monotonic() < until:
        started = time.monotonic()
        status, _ = await get(host, port, "/healthz")
        latencies.append(time.monotonic() - started)
        if status != 200:
            print(f"  /healthz answered {status}", file=sys.stderr)
        await asyncio.sleep(0.1)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- the board under test -------------------------------------------------------------------


def start_demo(port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    cta = Path(sys.executable).with_name("cta")
    command = [str(cta), "demo", "--backend", "memory", "--host", "127.0.0.1",
               "--port", str(port), *extra]  # fmt: skip
    log = open(f"/tmp/dashboard-fanout-demo-{port}.log", "wb")  # noqa: SIM115 (the child's)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def wait_for_board(host: str, port: int, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, IndexError):
            status, body = asyncio.run(get(host, port, "/healthz"))
            health: dict[str, Any] = json.loads(body)
            if status == 200 and (health.get("events") or {}).get("version") is not None:
                return health
        time.sleep(0.5)
    raise TimeoutError(f"no board answering on {host}:{port}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_fd_limit(clients: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = clients + FD_MARGIN
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            sys.exit(f"{clients} clients need {needed} open files; the hard limit is {hard}: "
                     f"raise it (ulimit -Hn / limits.conf) and run again")  # fmt: skip
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))  # the board inherits it


# --- the run --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--url", help="a running board (default: start cta demo)")
    parser.add_argument("--server-pid", type=int, help="the running board's pid, for its CPU")
    parser.add_argument("--demo-arg", action="append", default=[], help="passed to cta demo")
    args = parser.parse_args()
    raise_fd_limit(args.clients)
    demo = None
    if args.url:
        parts = urlsplit(args.url)
        host, port, server_pid = parts.hostname or "127.0.0.1", parts.port or 80, args.server_pid
    else:
        host, port = "127.0.0.1", free_port()
        demo = start_demo(port, args.demo_arg)
        server_pid = demo.pid
    try:
        return measure(args, host, port, server_pid)
    finally:
        if demo is not None:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(30)
            except subprocess.TimeoutExpired:
                demo.kill()


def measure(args: argparse.Namespace, host: str, port: int, server_pid: int | None) -> int:
    wait_for_board(host, port)
    print(f"before: {uptime()}")
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for n in range(args.workers):
        count = args.clients // args.workers + (n < args.clients % args.workers)
        ours, theirs = context.Pipe()
        process = context.Process(target=client_process, args=(host, port, count, theirs))
        process.start()
        pipes.append(ours)
        processes.append(process)
    connecting = time.monotonic()
    for pipe in pipes:
        if not pipe.poll(max(60.0, args.clients / 20)):
            sys.exit("clients did not all get their first snapshot")
        pipe.recv()
    print(f"{args.clients} clients connected, each with its snapshot, "
          f"in {time.monotonic() - connecting:.1f} s", file=sys.stderr)  # fmt: skip

    start = time.monotonic() + 2.0  # time for busy client processes to take the window in
    end = start + args.seconds
    grace = 3.0  # a version first seen just before the end still reaches everyone
    for pipe in pipes:
        pipe.send((start, end + grace))
    cpu_before = None if server_pid is None else cpu_seconds(server_pid)
    machine_before = machine_busy()
    time.sleep(max(0.0, start - time.monotonic()))
    healthz = asyncio.run(poll_healthz(host, port, end + grace))
    cpu_after = None if server_pid is None else cpu_seconds(server_pid)
    machine_after = machine_busy()
    results = [pipe.recv() for pipe in pipes]
    for process in processes:
        process.join(10)
    after_load = uptime()
    late = max(result["late"] for result in results)
    if late > 0:
        print(f"  WARNING: a client process took the window in {late:.2f} s after it began: "
              "its first receipts were not counted (a version may look undelivered)")
    events_stats: Any = None
    with contextlib.suppress(OSError, ValueError):
        events_stats = json.loads(asyncio.run(get(host, port, "/healthz"))[1]).get("events")
    window = end + grace - start

    versions: dict[int, list[float]] = {}
    for result in results:
        for version, (count, first, last) in result["versions"].items():
            seen = versions.setdefault(version, [0, first, last])
            seen[0] += count
            seen[1], seen[2] = min(seen[1], first), max(seen[2], last)
    measured = {v: s for v, s in versions.items() if start <= s[1] <= end}
    spreads = [(last - first) * 1000 for _, first, last in measured.values()]
    complete = sum(count == args.clients for count, _, _ in measured.values())
    events = [e for result in results for e in result["events"]]
    sent = [b for result in results for b in result["bytes"]]
    resets = sum(result["resets"] for result in results)
    lost = sum(result["lost"] for result in results)
    clients_cpu = sum(result["cpu"] for result in results)
    busy = (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1])
    healthz_ms = [latency * 1000 for latency in healthz]

    print(f"dashboard fan-out: {args.clients} clients on loopback, {args.seconds:.0f} s window "
          f"(+{grace:.0f} s to deliver), {args.workers} client processes")  # fmt: skip
    print(f"  versions first seen in the window: {len(measured)} "
          f"({len(measured) / args.seconds:.2f}/s)")  # fmt: skip
    print(f"  per client: {sum(events) / len(events) / window:.2f} updates/s, "
          f"{sum(sent) / len(sent) / window / 1024:.2f} KiB/s "
          f"(min {min(sent) / window / 1024:.2f}, max {max(sent) / window / 1024:.2f})")
    every = complete == len(measured) and lost == 0
    print(f"  every client received every version: {'yes' if every else 'NO'} "
          f"({complete}/{len(measured)} versions reached all {args.clients}; "
          f"{lost} streams lost; {resets} snapshots instead of deltas)")  # fmt: skip
    print(f"  spread, last client minus first, ms: p50 {percentile(spreads, 0.5):.1f}  "
          f"p99 {percentile(spreads, 0.99):.1f}  max {max(spreads, default=float('nan')):.1f}")
    if cpu_before is not None and cpu_after is not None:
        print(f"  server CPU: {(cpu_after - cpu_before) / window * 100:.0f}% of one core")
    print(f"  client processes CPU: {clients_cpu / window * 100:.0f}% of one core "
          f"(their whole life); machine busy: {busy * 100:.0f}% of {os.cpu_count()} cores")
    print(f"  /healthz ms (n={len(healthz_ms)}): p50 {percentile(healthz_ms, 0.5):.1f}  "
          f"p99 {percentile(healthz_ms, 0.99):.1f}  max {max(healthz_ms):.1f}")
    print(f"  after: {after_load}")
    print(f"  board's /healthz events: {events_stats}")
    targets = {1000: 250.0, 5000: 1000.0}
    limit = next((ms for n, ms in sorted(targets.items()) if args.clients <= n), None)
    verdicts = [("every client received every version", every),
                ("/healthz < 100 ms throughout", max(healthz_ms) < 100)]  # fmt: skip
    if limit is not None:
        verdicts.append((f"spread p99 < {limit:.0f} ms", percentile(spreads, 0.99) < limit))
    for what, ok in verdicts:
        print(f"  target {what}: {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
