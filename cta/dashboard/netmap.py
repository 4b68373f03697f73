"""The map of the whole 'L' the page draws (``static/map.js``): geometry only, in SVG units.

``GET /api/map`` serves it once per page: the lines in page order with their official colours,
every stretch of track with the lines running on it, every station's position and the box round
the Loop (the map's "Loop" zoom). Positions are projected here, once, so the page does no
geodesy: an equirectangular projection about the network's middle latitude (east-west degrees
shrink by its cosine), north up, the longer side ``MAP_SIZE`` units. At Chicago's size (40 km)
the distortion is far below what a rider could see.

Names, trains and counts are not here: they change, and come from the board's live state.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sanic import Request, Sanic
from sanic.config import Config
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from cta.dashboard.layout import BoardLayout
from cta.data_l import l_dir
from cta.data_track import TRACK_FILE, Point, TrackSegment, load_track

log = logging.getLogger(__name__)

MAP_SIZE = 1000.0  # SVG units along the map's longer side
PADDING = 12.0  # SVG units of margin round the network
LOOP_MARGIN = 6.0  # SVG units round the Loop's stations in its zoom box


class Projection:
    """Latitude/longitude -> SVG x (east) / y (down), fitted to ``points``."""

    def __init__(self, points: Iterable[Point]) -> None:
        points = list(points)
        if not points:
            raise ValueError("nothing to project")
        lats = [lat for lat, _ in points]
        lons = [lon for _, lon in points]
        self.north, self.west = max(lats), min(lons)
        self.shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
        span_x = (max(lons) - self.west) * self.shrink
        span_y = self.north - min(lats)
        self.scale = (MAP_SIZE - 2 * PADDING) / max(span_x, span_y, 1e-9)
        self.width = round(span_x * self.scale + 2 * PADDING, 1)
        self.height = round(span_y * self.scale + 2 * PADDING, 1)

    def __call__(self, point: Point) -> tuple[float, float]:
        lat, lon = point
        x = (lon - self.west) * self.shrink * self.scale + PADDING
        y = (self.north - lat) * self.scale + PADDING
        return round(x, 1), round(y, 1)


def _box(points: Sequence[tuple[float, float]], margin: float) -> dict[str, float] | None:
    if not points:
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return {
        "x": round(min(xs) - margin, 1),
        "y": round(min(ys) - margin, 1),
        "width": round(max(xs) - min(xs) + 2 * margin, 1),
        "height": round(max(ys) - min(ys) + 2 * margin, 1),
    }


def build_map(layout: BoardLayout, track: Sequence[TrackSegment]) -> dict[str, Any]:
    """The map's JSON: ``lines``, ``segments`` (track), ``stations``, ``loop`` and its size."""
    shown = {line.line for line in layout.lines}
    lines_at: dict[int, list[str]] = {}
    loop: set[int] = set()
    for line in layout.lines:
        for station_id in line.station_ids:
            lines_at.setdefault(station_id, []).append(line.line)
        loop.update(s for s, part in line.sections.items() if part.startswith("The Loop"))
    placed = {s: layout.coordinates[s] for s in lines_at if s in layout.coordinates}
    segments = [s for s in track if any(line in shown for line in s.lines)]
    every_point = [*placed.values(), *(p for s in segments for p in s.points)]
    if not every_point:
        return {"width": MAP_SIZE, "height": MAP_SIZE, "lines": [], "segments": [],
                "stations": [], "loop": None}  # fmt: skip
    project = Projection(every_point)
    stations = [
        {"station_id": s, "x": x, "y": y, "lines": lines_at[s]}
        for s, (x, y) in sorted((s, project(p)) for s, p in placed.items())
    ]
    return {
        "width": project.width,
        "height": project.height,
        "lines": [{"line": ln.line, "name": ln.name, "color": ln.color} for ln in layout.lines],
        "segments": [
            {
                "lines": [line for line in s.lines if line in shown],
                # Flat x, y, x, y...: a third the size of a list of pairs in JSON.
                "points": [c for p in s.points for c in project(p)],
            }
            for s in segments
        ],
        "stations": stations,
        "loop": _box([project(placed[s]) for s in sorted(loop) if s in placed], LOOP_MARGIN),
    }


def network_map(layout: BoardLayout | None) -> dict[str, Any] | None:
    """The map of the board's network; None for a board without a layout (the seed)."""
    if layout is None:
        return None
    path = l_dir() / TRACK_FILE
    if path.exists():
        track = load_track(path)
    else:
        # Stations still show; the log says why the lines do not.
        log.warning("no %s: the map draws stations without track", path)
        track = []
    return build_map(layout, track)


def add_map_route(app: Sanic[Config, SimpleNamespace], layout: BoardLayout | None) -> None:
    """``GET /api/map``: the map (built on first use, then served as built); 404 without one."""
    built: list[dict[str, Any] | None] = []

    @app.get("/api/map")
    async def map_geometry(request: Request) -> HTTPResponse:
        if not built:
            built.append(network_map(layout))
        if built[0] is None:
            return json_response({"error": "this board's network has no map"}, status=404)
        return json_response(built[0], headers={"Cache-Control": "max-age=300"})
