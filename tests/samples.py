"""Station rows the adapter tests share: Clark/Lake, one stop on each of its two lines."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cta.ports import StationRow

CLARK_LAKE_BLUE = StationRow(
    30374,
    "S",
    "Clark/Lake (Forest Pk-bound)",
    "Clark/Lake",
    "Clark/Lake (Blue Line)",
    40380,
    16,
    red=False,
    blue=True,
    green=False,
)
CLARK_LAKE_GREEN = replace(
    CLARK_LAKE_BLUE, stop_id=30074, direction_id="E", order=14, blue=False, green=True
)


def raw_row(stop_id: int = 30374, *, line: str | None = "blue", **overrides: Any) -> dict[str, Any]:
    """A Clark/Lake stop as the source connector writes it, on ``line`` (None: no line)."""
    row = {
        **CLARK_LAKE_BLUE.as_json(),
        "stop_id": stop_id,
        "red": line == "red",
        "blue": line == "blue",
        "green": line == "green",
    }
    row.update(overrides)
    return row
