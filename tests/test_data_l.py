"""The whole 'L' fixtures (fixtures/l/) and their loader."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from cta.data import DataError
from cta.data_l import (
    LINES_FILE,
    PATTERNS_FILE,
    RIDERSHIP_FILE,
    STOPS_FILE,
    WholeL,
    l_dir,
    load_lines,
    load_monthly_ridership,
    load_network,
    load_patterns,
    load_stops,
    load_whole_l,
)
from cta.domain.events import LineColor

CLARK_LAKE, HOWARD, BERWYN, LAWRENCE, WILSON = 40380, 40900, 40340, 40770, 40540


@cache
def whole() -> WholeL:
    return load_whole_l()


def test_every_platform_and_station_loads() -> None:
    stops = whole().stops
    assert len(stops) == 300
    assert len({s.station_id for s in stops}) == 143
    assert len({s.stop_id for s in stops}) == 300


def test_station_counts_per_line_follow_the_data() -> None:
    network = whole().network()
    assert {color.value: len(line) for color, line in network.lines.items()} == {
        "red": 33, "blue": 33, "green": 30, "brown": 27,
        "purple": 26, "pink": 22, "orange": 16, "yellow": 3,
    }  # fmt: skip
    assert len({sid for line in network.lines.values() for sid in line.station_ids}) == 143


def test_a_stations_lines_are_the_union_over_its_platforms() -> None:
    def lines_at(station_id: int) -> set[str]:
        return {line for s in whole().stops if s.station_id == station_id for line in s.lines}

    assert lines_at(CLARK_LAKE) == {"blue", "brown", "green", "orange", "pink", "purple"}
    assert lines_at(HOWARD) == {"red", "purple", "yellow"}
    # In the Loop, line flags are per platform: the Outer Loop carries Brown (and Green on Lake
    # Street), the Inner Loop Orange, Purple and Pink.
    clark_lake = {s.stop_name: set(s.lines) for s in whole().stops if s.station_id == CLARK_LAKE}
    assert clark_lake["Clark/Lake (Outer Loop)"] == {"brown", "green"}
    assert clark_lake["Clark/Lake (Inner Loop)"] == {"green", "orange", "purple", "pink"}


def test_lines_carry_official_colours_and_distinct_train_prefixes() -> None:
    lines = load_lines()
    assert lines[LineColor.RED].color_hex == "#C60C30"
    assert lines[LineColor.PURPLE].color_hex == "#522398"
    assert len({info.train_prefix for info in lines.values()}) == 8


def test_patterns_have_their_terminals_and_loops() -> None:
    patterns = {p.pattern_id: p for ps in load_patterns().values() for p in ps}
    assert patterns["brown"].terminal == 41290 and patterns["brown"].far_terminal is None
    assert patterns["brown"].loop == (40730, 40040, 40160, 40850, 40680, 41700, 40260, 40380)
    assert patterns["orange"].terminal == 40930 and len(patterns["orange"].loop) == 8
    assert patterns["pink"].terminal == 40580 and patterns["purple"].terminal == 41050
    assert patterns["yellow"].stations == (40140, 41680, HOWARD)
    assert patterns["green-ashland"].far_terminal == 40290
    assert patterns["green-cottage"].far_terminal == 40720
    assert len(patterns["purple"].stations) == 26


def test_ridership_covers_every_month_deduplicated() -> None:
    months = load_monthly_ridership()
    assert min(months) == "2001-01" and max(months) == "2024-04"
    assert len(months) == 12 * 23 + 4
    assert all(len(months["2024-04"]) >= 143 for _ in [0])
    assert months["2019-01"][CLARK_LAKE].weekday == pytest.approx(18264.3)
    assert months["2024-04"][CLARK_LAKE].weekday == pytest.approx(8239.9)
    # Of Wilson's duplicated station-months the row with the larger monthly total is kept.
    assert WILSON in months["2017-10"]


def test_month_selects_ridership_and_closes_stations_without_entries() -> None:
    latest = load_network()
    assert latest.month == "2024-04"
    assert latest.closed == {BERWYN, LAWRENCE}
    assert latest.ridership[BERWYN].weekday == 0
    october_2019 = load_network("l", "2019-10")
    assert october_2019.closed == frozenset()
    assert sum(r.weekday for r in october_2019.ridership.values()) == pytest.approx(625_254, 1)
    with pytest.raises(ValueError, match="1999-01"):
        load_network("l", "1999-01")


def test_seed_network_keeps_its_own_figures() -> None:
    seed = load_network("seed")
    assert set(seed.lines) == {LineColor.BLUE, LineColor.RED, LineColor.GREEN}
    with pytest.raises(ValueError, match="October 2018"):
        load_network("seed", "2019-10")


def test_station_rows_carry_lines_ada_and_coordinates() -> None:
    rows = whole().station_rows()
    assert len(rows) == 300
    clark = [r for r in rows if r.station_id == CLARK_LAKE]
    assert {name for r in clark for name in r.line_names} == {
        "blue", "brown", "green", "orange", "pink", "purple",
    }  # fmt: skip
    assert all(r.ada is not None and r.latitude and r.longitude for r in rows)
    assert all(41.7 < (r.latitude or 0) < 42.1 for r in rows)
    assert all(-87.95 < (r.longitude or 0) < -87.6 for r in rows)


# --- bad rows are refused with file:line ---------------------------------------------------------


def copy_fixtures(tmp_path: Path) -> Path:
    for name in (LINES_FILE, PATTERNS_FILE, STOPS_FILE, RIDERSHIP_FILE):
        (tmp_path / name).write_text((l_dir() / name).read_text(encoding="utf-8"), "utf-8")
    return tmp_path


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "line", "text", "reason"),
    [
        (LINES_FILE, 3, "blue,Blue,00A1DX,BL", "color '00A1DX'"),
        (LINES_FILE, 3, "red,Red,C60C30,XX", "duplicate line red"),
        (PATTERNS_FILE, 3, "red,red,5,41190,line", "seq 5, expected 1"),
        (PATTERNS_FILE, 3, "red,red,1,40900,line", "station 40900 twice"),
        (STOPS_FILE, 2, "30001,E,Austin,Austin,Austin,40010,maybe,41.8,-87.7,blue", "ada 'maybe'"),
        (STOPS_FILE, 2, "30001,E,Austin,Austin,Austin,40010,no,141.8,-87.7,blue", "latitude"),
        (STOPS_FILE, 2, "30001,E,Austin,Austin,Austin,40010,no,41.8,-87.7,teal", "lines 'teal'"),
        (RIDERSHIP_FILE, 2, "40010,2001-13,1,1,1", "month '2001-13'"),
        (RIDERSHIP_FILE, 3, "40010,2001-01,1,1,1", "duplicate row for station 40010"),
        (RIDERSHIP_FILE, 2, "40010,2001-01,-4,1,1", "weekday '-4'"),
    ],
)
def test_a_bad_row_is_refused_with_its_file_and_line(
    tmp_path: Path, name: str, line: int, text: str, reason: str
) -> None:
    directory = copy_fixtures(tmp_path)
    replace_line(directory / name, line, text)
    loaders = {
        LINES_FILE: load_lines,
        PATTERNS_FILE: load_patterns,
        STOPS_FILE: load_stops,
        RIDERSHIP_FILE: load_monthly_ridership,
    }
    with pytest.raises(DataError, match=rf"{name}:{line}: .*{reason}") as caught:
        loaders[name](directory / name)
    assert caught.value.line == line
