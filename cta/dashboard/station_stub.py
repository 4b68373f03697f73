"""STUB of ``GET /api/stations/<station_id>`` for the map branch's station panel and its tests.

The real endpoint belongs to the "hourly" branch (entries per hour from ``TURNSTILE_HOURLY``);
when it is merged, drop this module and its one ``add_station_stub`` call in ``app.py``. The
shape is the agreed one; only ``hourly`` is a stand-in: the station's current count all in the
board clock's hour, and no typical curve (zeros), so the panel's chart has something to draw.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sanic import Request, Sanic
from sanic.config import Config
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from cta.dashboard.state import DashboardState

HOURS = 24


def station_detail(state: DashboardState, station_id: int) -> dict[str, Any] | None:
    """The agreed panel JSON for one station, from the board's snapshot; None if unknown."""
    snapshot = state.snapshot()
    name: str | None = None
    lines: list[str] = []
    trains: dict[str, list[dict[str, Any]]] = {}
    entries = 0
    for line in snapshot["lines"]:
        row = next((s for s in line["stations"] if s["station_id"] == station_id), None)
        if row is None:
            continue
        name, entries = row["name"], int(row["entries"])
        lines.append(line["line"])
        directions = line.get("directions") or {"a": "Direction A", "b": "Direction B"}
        for direction in ("a", "b"):
            heading = str(directions[direction])
            listed = trains.setdefault(heading, [])
            slot = row[direction]
            if slot is not None:
                listed.append({"train_id": slot["train_id"], "line": line["line"],
                               "status": slot["status"], "at": True,
                               "station_id": station_id})  # fmt: skip
    if name is None:
        return None
    clock = snapshot["header"].get("clock")
    hourly_entries = [0] * HOURS
    if clock is not None:
        hourly_entries[int(str(clock["time"]).split(":")[0]) % HOURS] = entries
    return {
        "station_id": station_id,
        "name": name,
        "lines": lines,
        "ada": None,  # unknown to the stub (hourly's knows)
        "trains": trains,
        "hourly": {
            "day": None if clock is None else str(clock["iso"])[:10],
            "day_type": None if clock is None else clock["day_type"],
            "entries": hourly_entries,
            "typical": [0.0] * HOURS,
        },
    }


def add_station_stub(app: Sanic[Config, SimpleNamespace], state: DashboardState) -> None:
    @app.get("/api/stations/<station_id:int>")
    async def station(request: Request, station_id: int) -> HTTPResponse:
        detail = station_detail(state, station_id)
        if detail is None:
            return json_response({"error": f"no station {station_id}"}, status=404)
        return json_response(detail)
