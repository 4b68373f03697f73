"""Avro contracts of the device events, as ``.avsc`` files shipped with the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """The schema text of ``<name>.avsc`` (e.g. ``arrival_value``), normalised to compact JSON."""
    text = resources.files(__name__).joinpath(f"{name}.avsc").read_text(encoding="utf-8")
    return json.dumps(json.loads(text), separators=(",", ":"))


ARRIVAL_KEY = "arrival_key"
ARRIVAL_VALUE = "arrival_value"
TURNSTILE_KEY = "turnstile_key"
TURNSTILE_VALUE = "turnstile_value"
WEATHER_KEY = "weather_key"
WEATHER_VALUE = "weather_value"
