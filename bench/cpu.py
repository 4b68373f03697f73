"""CPU seconds per thread of this process and per descendant process (for the benchmarks)."""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict
from pathlib import Path


def _cpu_seconds(stat_path: str) -> float:
    """utime + stime of a /proc stat file, in seconds."""
    with open(stat_path, encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_names() -> dict[int, str]:
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    for tid in os.listdir("/proc/self/task"):
        if int(tid) not in names:
            with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as handle:
                # librdkafka names its threads rdk:main, rdk:broker<n>...: group them by kind
                names[int(tid)] = re.sub(r"\d+$", "", handle.read().strip())
    return names


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(entry))
            except OSError:
                continue
    return found + [grandchild for child in found for grandchild in _children(child)]


def _process_label(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        argv = handle.read().split(b"\0")
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    for marker in ("kafka.Kafka", "ConnectDistributed", "apicurio", "faust", "rest_proxy"):
        if marker.lower() in text.lower():
            return f"{marker} (pid {pid})"
    return f"{Path(argv[0].decode(errors='replace')).name} (pid {pid})"


def cpu_sample() -> dict[str, float]:
    """CPU seconds so far: each thread of this process (by name), each descendant process."""
    sample: dict[str, float] = defaultdict(float)
    names = _thread_names()
    for tid in os.listdir("/proc/self/task"):
        try:
            sample[f"thread {names.get(int(tid), tid)}"] += _cpu_seconds(
                f"/proc/self/task/{tid}/stat"
            )
        except OSError:
            continue
    for pid in _children(os.getpid()):
        try:
            sample[f"process {_process_label(pid)}"] += _cpu_seconds(f"/proc/{pid}/stat")
        except OSError:
            continue
    with open("/proc/stat", encoding="ascii") as handle:
        total = [int(v) for v in handle.readline().split()[1:]]
    sample["process this one (all threads)"] = _cpu_seconds("/proc/self/stat")
    sample["machine busy"] = (sum(total) - total[3] - total[4]) / os.sysconf("SC_CLK_TCK")
    return sample


def print_cpu(before: dict[str, float], after: dict[str, float], seconds: float) -> None:
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    print(f"CPU over the {seconds:.0f}s window (cores used; 2 cores):")
    for name, value in sorted(used.items(), key=lambda item: -item[1]):
        if value / seconds >= 0.01:
            print(f"  {name:<48} {value / seconds:5.2f}")
