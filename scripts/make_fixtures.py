"""Write fixtures/ from the public CTA data (run once; see fixtures/README.md).

Usage: python scripts/make_fixtures.py SOURCE_DIR [OUT_DIR]
       python scripts/make_fixtures.py l L_SOURCE_DIR SEED_SOURCE_DIR [OUT_DIR]

The first form writes the seed network (the original three lines): SOURCE_DIR holds
cta_stations.csv, ridership_seed.csv and ridership_curve.csv. Only the figures carry over: our
files use our own column names and order, LF line endings, a line column instead of three flags,
and rows sorted by line and position.

The second form writes fixtures/l/ (the whole 'L', see ``make_l``)
from the 2022 stops list, the 2001-2024 monthly ridership and the rail-lines map layer
(rail_lines.geojson, for track.csv) in L_SOURCE_DIR; the Red, Blue and
Green running orders come from the seed's ``order`` column in SEED_SOURCE_DIR.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

LINE_RANK = {"blue": 0, "red": 1, "green": 2, "none": 3}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _line_of(row: dict[str, str]) -> str:
    flagged = [color for color in ("red", "blue", "green") if row[color] == "TRUE"]
    if len(flagged) > 1:
        raise SystemExit(f"stop {row['stop_id']} is on several lines: {flagged}")
    return flagged[0] if flagged else "none"


def make_stops(source: Path, out: Path) -> None:
    rows = [
        [
            int(r["stop_id"]),
            r["direction_id"],
            r["stop_name"],
            r["station_name"],
            r["station_descriptive_name"],
            int(r["station_id"]),
            int(r["order"]),
            _line_of(r),
        ]
        for r in _read(source / "cta_stations.csv")
    ]
    rows.sort(key=lambda r: (LINE_RANK[str(r[7])], r[6], r[0]))
    header = [
        "stop_id", "direction", "stop_name", "station_name", "descriptive_name",
        "station_id", "order", "line",
    ]
    _write(out / "stops.csv", header, rows)


def make_ridership(source: Path, out: Path) -> None:
    rows: list[list[object]] = [
        [
            int(r["station_id"]),
            r["stationame"],
            r["avg_weekday_rides"],
            r["avg_saturday_rides"],
            r["avg_sunday-holiday_rides"],
        ]
        for r in _read(source / "ridership_seed.csv")
    ]
    rows.sort(key=lambda r: int(str(r[0])))
    header = ["station_id", "station_name", "weekday", "saturday", "sunday_holiday"]
    _write(out / "ridership.csv", header, rows)


def make_curve(source: Path, out: Path) -> None:
    # Hour 24 in the source repeats hour 0 and is never read: we keep hours 0-23 only.
    rows: list[list[object]] = [
        [int(r["hour"]), r["ridership_ratio"]]
        for r in _read(source / "ridership_curve.csv")
        if int(r["hour"]) < 24
    ]
    _write(out / "hourly_curve.csv", ["hour", "share"], rows)


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[1] == "l":
        if len(argv) not in (4, 5):
            raise SystemExit(__doc__)
        out = Path(argv[4]) if len(argv) == 5 else Path(__file__).resolve().parents[1] / "fixtures"
        make_l(Path(argv[2]), Path(argv[3]), out / "l")
        return
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    source = Path(argv[1])
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parents[1] / "fixtures"
    make_stops(source, out)
    make_ridership(source, out)
    make_curve(source, out)


# --- the whole 'L' -------------------------------------------------------------------------------

# Line flag columns of the stops list -> our line names; P (Linden-Howard local) and Pexp (the
# whole Purple Line) both mean Purple stops at that platform.
L_FLAGS = {
    "RED": "red", "BLUE": "blue", "G": "green", "BRN": "brown",
    "P": "purple", "Pexp": "purple", "Y": "yellow", "Pnk": "pink", "O": "orange",
}
# Page order (CTA's own), display names, official colours (GTFS routes.txt) and train-id prefixes.
L_LINES = [
    ("red", "Red", "C60C30", "RL"),
    ("blue", "Blue", "00A1DE", "BL"),
    ("brown", "Brown", "62361B", "BR"),
    ("green", "Green", "009B3A", "GL"),
    ("orange", "Orange", "F9461C", "OR"),
    ("purple", "Purple", "522398", "PR"),
    ("pink", "Pink", "E27EA6", "PK"),
    ("yellow", "Yellow", "F9E300", "YL"),
]
# Running orders of the lines the seed lacks (SOURCE.md of the 'L' data), terminal first; the
# stations after LOOP_AT are the Loop, in the line's running direction round it.
LOOP_ORDERS = {
    "brown": [41290, 41180, 40870, 41010, 41480, 40090, 41500, 41460, 41440, 41310, 40360, 41320,
              41210, 40530, 41220, 40660, 40800, 40710, 40460,
              40730, 40040, 40160, 40850, 40680, 41700, 40260, 40380],
    "orange": [40930, 40960, 41150, 40310, 40120, 41060, 41130, 41400,
               40850, 40160, 40040, 40730, 40380, 40260, 41700, 40680],
    "pink": [40580, 40420, 40600, 40150, 40780, 41040, 40440, 40740, 40210, 40830, 41030, 40170,
             41510, 41160,
             40380, 40260, 41700, 40680, 40850, 40160, 40040, 40730],
    "purple": [41050, 41250, 40400, 40520, 40050, 40690, 40270, 40840, 40900, 40540, 41320, 41210,
               40530, 41220, 40660, 40800, 40710, 40460,
               40380, 40260, 41700, 40680, 40850, 40160, 40040, 40730],
}
LOOP_STATIONS = 8
YELLOW = [40140, 41680, 40900]
GREEN_SPLIT = 40510  # Garfield: the Ashland/63rd and Cottage Grove branches part after it
GREEN_COTTAGE = [41140, 40720]  # King Drive, Cottage Grove


def _l_stops(source: Path) -> list[dict[str, str]]:
    # The export starts with a UTF-8 BOM: utf-8-sig drops it from the first column name.
    with (source / "l_stops_2022.csv").open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _seed_order(seed_source: Path, column: str) -> list[int]:
    rows = [r for r in _read(seed_source / "cta_stations.csv") if r[column] == "TRUE"]
    ordered: list[int] = []
    for r in sorted(rows, key=lambda r: int(r["order"])):
        if int(r["station_id"]) not in ordered:
            ordered.append(int(r["station_id"]))
    return ordered


def make_l_stops(source: Path, out: Path) -> dict[str, set[int]]:
    rank = {line: n for n, (line, *_rest) in enumerate(L_LINES)}
    rows: list[list[object]] = []
    served: dict[str, set[int]] = {line: set() for line, *_rest in L_LINES}
    for r in _l_stops(source):
        lines = sorted({L_FLAGS[f] for f in L_FLAGS if r[f] == "true"}, key=rank.__getitem__)
        lat, lon = (float(v) for v in r["Location"].strip("()").split(","))
        station_id = int(r["MAP_ID"])
        for line in lines:
            served[line].add(station_id)
        rows.append([
            int(r["STOP_ID"]), r["DIRECTION_ID"], r["STOP_NAME"], r["STATION_NAME"],
            r["STATION_DESCRIPTIVE_NAME"], station_id, "yes" if r["ADA"] == "true" else "no",
            f"{lat:.6f}", f"{lon:.6f}", " ".join(lines),
        ])
    rows.sort(key=lambda row: int(str(row[0])))
    header = [
        "stop_id", "direction", "stop_name", "station_name", "descriptive_name", "station_id",
        "ada", "latitude", "longitude", "lines",
    ]
    _write(out / "stops.csv", header, rows)
    return served


def make_l_patterns(seed_source: Path, served: dict[str, set[int]], out: Path) -> None:
    green = _seed_order(seed_source, "green")
    split = green.index(GREEN_SPLIT) + 1
    patterns: list[tuple[str, str, list[int], int | None]] = [
        ("red", "red", _seed_order(seed_source, "red"), None),
        ("blue", "blue", _seed_order(seed_source, "blue"), None),
        ("brown", "brown", LOOP_ORDERS["brown"], len(LOOP_ORDERS["brown"]) - LOOP_STATIONS),
        ("green-ashland", "green", green, None),
        ("green-cottage", "green", green[:split] + GREEN_COTTAGE, None),
        ("orange", "orange", LOOP_ORDERS["orange"], len(LOOP_ORDERS["orange"]) - LOOP_STATIONS),
        ("purple", "purple", LOOP_ORDERS["purple"], len(LOOP_ORDERS["purple"]) - LOOP_STATIONS),
        ("pink", "pink", LOOP_ORDERS["pink"], len(LOOP_ORDERS["pink"]) - LOOP_STATIONS),
        ("yellow", "yellow", YELLOW, None),
    ]
    rows: list[list[object]] = []
    for pattern, line, stations, loop_at in patterns:
        covered = {s for p, ln, ss, _ in patterns if ln == line for s in ss}
        if covered != served[line]:
            raise SystemExit(f"{line}: patterns cover {sorted(covered ^ served[line])} wrongly")
        for seq, station_id in enumerate(stations):
            section = "loop" if loop_at is not None and seq >= loop_at else "line"
            rows.append([pattern, line, seq, station_id, section])
    _write(out / "patterns.csv", ["pattern", "line", "seq", "station_id", "section"], rows)
    _write(
        out / "lines.csv",
        ["line", "name", "color", "train_prefix"],
        [list(line) for line in L_LINES],
    )


def _month(month_beginning: str) -> str:
    mm, _dd, yyyy = month_beginning.split("/")
    return f"{yyyy}-{mm}"


def _figure(raw: str) -> str:
    # "1054" and "1054.0" are the same figure; the shorter spelling keeps the file small.
    value = float(raw)
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def make_l_ridership(source: Path, out: Path) -> None:
    # Wilson has three duplicated station-months: keep the row with the larger monthtotal.
    best: dict[tuple[int, str], dict[str, str]] = {}
    for r in _read(source / "ridership_monthly_2001_2024.csv"):
        key = (int(r["station_id"]), _month(r["month_beginning"]))
        kept = best.get(key)
        if kept is None or float(r["monthtotal"]) > float(kept["monthtotal"]):
            best[key] = r
    rows = [
        [station_id, month, _figure(r["avg_weekday_rides"]), _figure(r["avg_saturday_rides"]),
         _figure(r["avg_sunday-holiday_rides"])]
        for (station_id, month), r in sorted(best.items())
    ]
    _write(out / "ridership.csv", ["station_id", "month", "weekday", "saturday", "sunday_holiday"],
           rows)


def make_l(source: Path, seed_source: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    served = make_l_stops(source, out)
    make_l_patterns(seed_source, served, out)
    make_l_ridership(source, out)
    make_l_track(source, out)


# --- track geometry ------------------------------------------------------------------------------

# Words of the geojson's LINES property -> our line names ("Brown, Purple (Express), Red").
TRACK_WORDS = {
    "Red": "red", "Blue": "blue", "Brown": "brown", "Green": "green",
    "Orange": "orange", "Purple": "purple", "Pink": "pink", "Yellow": "yellow",
}
TRACK_TOLERANCE = 0.00002  # degrees (about 2 m): a bend smaller than this is not drawn
TRACK_DECIMALS = 5  # about 1 m


def _track_lines(raw: str) -> list[str]:
    rank = {line: n for n, (line, *_rest) in enumerate(L_LINES)}
    found = {TRACK_WORDS[w] for w in re.findall(r"[A-Z][a-z]+", raw) if w in TRACK_WORDS}
    if not found:
        raise SystemExit(f"track segment names no line: {raw!r}")
    return sorted(found, key=rank.__getitem__)


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker: keep the ends, and recursively the point farthest from the chord when it
    is farther than ``tolerance``."""
    if len(points) < 3:
        return points
    (x0, y0), (x1, y1) = points[0], points[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = (dx * dx + dy * dy) ** 0.5
    best, far = 0.0, 0
    for n, (x, y) in enumerate(points[1:-1], start=1):
        if norm == 0:
            distance = ((x - x0) ** 2 + (y - y0) ** 2) ** 0.5
        else:
            distance = abs(dy * (x - x0) - dx * (y - y0)) / norm
        if distance > best:
            best, far = distance, n
    if best <= tolerance:
        return [points[0], points[-1]]
    return _simplify(points[: far + 1], tolerance)[:-1] + _simplify(points[far:], tolerance)


def make_l_track(source: Path, out: Path) -> None:
    """fixtures/l/track.csv: one row per stretch of track, the lines whose trains run on it and
    its points (simplified, rounded), from the CTA rail-lines map layer."""
    import json

    features = json.loads((source / "rail_lines.geojson").read_text(encoding="utf-8"))["features"]
    rows: list[list[object]] = []
    for feature in features:
        geometry = feature["geometry"]
        if geometry["type"] != "LineString":
            raise SystemExit(f"track segment is a {geometry['type']}, not a LineString")
        lines = _track_lines(feature["properties"]["LINES"])
        points = _simplify([(lon, lat) for lon, lat, *_z in geometry["coordinates"]],
                           TRACK_TOLERANCE)
        text = ";".join(
            f"{lat:.{TRACK_DECIMALS}f} {lon:.{TRACK_DECIMALS}f}" for lon, lat in points
        )
        rows.append([" ".join(lines), text])
    rows.sort(key=lambda row: (str(row[0]), str(row[1])))
    _write(out / "track.csv", ["segment", "lines", "points"],
           [[n, *row] for n, row in enumerate(rows)])


if __name__ == "__main__":
    main(sys.argv)
