"""The map's data: the track fixture, its loader, and /api/map's geometry (stations on their
track, the Loop's box)."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cta.dashboard.app import create_app
from cta.dashboard.netmap import Projection, build_map
from cta.dashboard.state import DashboardState
from cta.data import DataError
from cta.data_l import l_dir
from cta.data_track import TRACK_FILE, load_track
from tests.dashboard.conftest import unique_name
from tests.dashboard.test_whole_l_board import layout

HOWARD = 40900
LOOP = {40730, 40040, 40160, 40850, 40680, 41700, 40260, 40380}


@cache
def geometry() -> dict[str, Any]:
    return build_map(layout(), load_track())


def test_the_track_fixture_is_small_and_covers_every_line() -> None:
    path = l_dir() / TRACK_FILE
    assert path.stat().st_size < 300_000
    track = load_track()
    assert len(track) == 153
    assert {line for segment in track for line in segment.lines} == {
        "red", "blue", "brown", "green", "orange", "purple", "pink", "yellow"
    }  # fmt: skip
    loop_tracks = [s for s in track if set(s.lines) == {"brown", "green", "orange", "purple",
                                                         "pink"}]  # fmt: skip
    assert len(loop_tracks) == 5  # Lake Street and Wabash: five lines side by side


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0,red,41.9 -87.6", "points"),  # a single point is no track
        ("0,teal,41.9 -87.6;41.8 -87.6", "lines"),
        ("0,,41.9 -87.6;41.8 -87.6", "lines"),
        ("0,red,41.9;41.8 -87.6", "points"),
        ("0,red,141.9 -87.6;41.8 -87.6", "points"),
    ],
)
def test_a_bad_track_row_is_refused_with_file_and_line(
    tmp_path: Path, row: str, reason: str
) -> None:
    path = tmp_path / TRACK_FILE
    path.write_text(f"segment,lines,points\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"track\.csv:2: {reason} "):
        load_track(path)


def test_a_duplicate_segment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / TRACK_FILE
    path.write_text(
        "segment,lines,points\n0,red,41.9 -87.6;41.8 -87.6\n0,red,41.7 -87.6;41.8 -87.6\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"track\.csv:3: duplicate segment 0"):
        load_track(path)


def _distance_to_track(x: float, y: float, flat: list[float]) -> float:
    best = math.inf
    for i in range(0, len(flat) - 2, 2):
        x0, y0, x1, y1 = flat[i : i + 4]
        dx, dy = x1 - x0, y1 - y0
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy)
                                                    / (dx * dx + dy * dy)))  # fmt: skip
        best = min(best, math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)))
    return best


def test_every_station_is_placed_on_the_track_of_each_of_its_lines() -> None:
    built = geometry()
    assert [line["line"] for line in built["lines"]] == [
        "red", "blue", "brown", "green", "orange", "purple", "pink", "yellow"
    ]  # fmt: skip
    assert len(built["stations"]) == 143
    assert max(built["width"], built["height"]) == 1000.0
    track = load_track()
    projection = Projection([*layout().coordinates.values(), *(p for s in track for p in s.points)])
    metres_per_unit = 111_195 / projection.scale  # a degree of latitude is 111.2 km
    far: list[tuple[int, str, float]] = []
    for station in built["stations"]:
        for line in station["lines"]:
            nearest = min(
                _distance_to_track(station["x"], station["y"], segment["points"])
                for segment in built["segments"]
                if line in segment["lines"]
            )
            if nearest * metres_per_unit > 400:  # SOURCE.md: station nodes within 300 m
                far.append((station["station_id"], line, round(nearest, 1)))
    assert far == []


def test_the_loop_box_holds_the_loop_stations_and_little_else() -> None:
    built = geometry()
    box = built["loop"]
    inside = {
        s["station_id"]
        for s in built["stations"]
        if box["x"] <= s["x"] <= box["x"] + box["width"]
        and box["y"] <= s["y"] <= box["y"] + box["height"]
    }
    assert inside >= LOOP
    assert HOWARD not in inside
    assert len(inside) < 20  # the Loop and the subway stations under it, not the network


def test_api_map_serves_the_geometry_and_404_for_a_board_without_one() -> None:
    app = create_app(DashboardState(layout()), name=unique_name())
    _, response = app.test_client.get("/api/map")
    assert response.status == 200
    assert response.json == geometry()
    seed = create_app(DashboardState(), name=unique_name())
    _, response = seed.test_client.get("/api/map")
    assert response.status == 404
    assert "no map" in response.json["error"]
