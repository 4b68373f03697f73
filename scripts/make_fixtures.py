"""Write fixtures/ from the original kit's CSVs (run once; see fixtures/README.md).

Usage: python scripts/make_fixtures.py SOURCE_DIR [OUT_DIR]

SOURCE_DIR holds cta_stations.csv, ridership_seed.csv and ridership_curve.csv. Only the figures
carry over: our files use our own column names and order, LF line endings, a line column instead
of three flags, and rows sorted by line and position.
"""

from __future__ import annotations

import csv
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
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    source = Path(argv[1])
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parents[1] / "fixtures"
    make_stops(source, out)
    make_ridership(source, out)
    make_curve(source, out)


if __name__ == "__main__":
    main(sys.argv)
