"""Load the track of the whole 'L' from ``fixtures/l/track.csv`` (see fixtures/README.md).

One row per stretch of track between adjacent stations or junctions: the lines whose trains run
on it and its points (latitude, longitude). The board's map draws each line along them. As in
``cta.data``, a bad row raises ``DataError`` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cta.data import DataError, _non_negative_int, _parse, _rows
from cta.data_l import _line_list, l_dir

TRACK_FILE = "track.csv"
TRACK_HEADER = ("segment", "lines", "points")

Point = tuple[float, float]  # (latitude, longitude), WGS 84 degrees


@dataclass(frozen=True, slots=True)
class TrackSegment:
    segment: int
    lines: tuple[str, ...]
    points: tuple[Point, ...]


def _points(raw: str) -> tuple[Point, ...]:
    points: list[Point] = []
    for pair in raw.split(";"):
        lat_raw, lon_raw = pair.split(" ")  # ValueError unless exactly two numbers
        lat, lon = float(lat_raw), float(lon_raw)
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError(pair)
        points.append((lat, lon))
    if len(points) < 2:
        raise ValueError(raw)
    return tuple(points)


def _some_lines(raw: str) -> tuple[str, ...]:
    names = tuple(_line_list(raw).split())
    if not names:
        raise ValueError(raw)
    return names


def load_track(path: Path | None = None) -> list[TrackSegment]:
    """Every track segment, in file order. A missing file is an error like any fixture's."""
    path = path or l_dir() / TRACK_FILE
    segments: list[TrackSegment] = []
    seen: set[int] = set()
    for line, (segment_raw, lines_raw, points_raw) in _rows(path, TRACK_HEADER):
        segment = _parse(path, line, "segment", segment_raw, _non_negative_int)
        if segment in seen:
            raise DataError(path, line, f"duplicate segment {segment}")
        seen.add(segment)
        segments.append(
            TrackSegment(
                segment,
                _parse(path, line, "lines", lines_raw, _some_lines),
                _parse(path, line, "points", points_raw, _points),
            )
        )
    return segments

