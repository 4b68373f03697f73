from __future__ import annotations

import pytest

from cta.domain.events import LineColor
from cta.domain.lines import LINE_ORDER, build_lines
from cta.ports import StationRow


def row(
    stop_id: int, station_id: int, order: int, *, name: str = "", line: str | None = "red"
) -> StationRow:
    return StationRow(
        stop_id=stop_id,
        direction_id="N",
        stop_name=name or f"stop {stop_id}",
        station_name=name or f"station {station_id}",
        station_descriptive_name=name or f"station {station_id}",
        station_id=station_id,
        order=order,
        red=line == "red",
        blue=line == "blue",
        green=line == "green",
    )


def test_groups_stops_by_station_id_and_sorts_by_order() -> None:
    lines = build_lines(
        [
            row(5, 300, 2),
            row(1, 100, 0),
            row(2, 100, 0),
            row(4, 200, 1, name="Harlem"),
            row(6, 400, 3, name="Harlem"),
        ]
    )
    red = lines[LineColor.RED]
    assert red.station_ids == (100, 200, 300, 400)
    assert [s.order for s in red.stations] == [0, 1, 2, 3]
    assert [s.name for s in red.stations][1::2] == ["Harlem", "Harlem"]
    assert all(s.line is LineColor.RED for s in red.stations)


def test_unflagged_rows_are_on_no_line_and_every_line_is_present() -> None:
    lines = build_lines([row(1, 100, 0, line=None), row(2, 200, 0, line="green")])
    assert list(lines) == list(LINE_ORDER)
    assert lines[LineColor.GREEN].station_ids == (200,)
    assert len(lines[LineColor.RED]) == 0
    assert len(lines[LineColor.BLUE]) == 0


def test_station_on_two_lines_appears_on_both_with_each_lines_order() -> None:
    lines = build_lines(
        [row(1, 100, 0, line="blue"), row(2, 500, 1, line="blue"), row(3, 500, 0, line="green")]
    )
    assert lines[LineColor.BLUE].stations[1].order == 1
    assert lines[LineColor.GREEN].stations[0].order == 0
    assert lines[LineColor.GREEN].stations[0].station_id == 500


def test_stops_of_one_station_disagreeing_on_order_are_refused() -> None:
    with pytest.raises(ValueError, match="station 100 has stops at orders 0 and 1"):
        build_lines([row(1, 100, 0), row(2, 100, 1)])


def test_two_stations_sharing_an_order_are_refused() -> None:
    with pytest.raises(ValueError, match="stations 100 and 200 share order 0"):
        build_lines([row(1, 100, 0), row(2, 200, 0)])


def test_a_stop_on_two_lines_is_refused() -> None:
    both = StationRow(1, "N", "x", "x", "x", 100, 0, red=True, blue=True, green=False)
    with pytest.raises(ValueError, match="several lines"):
        build_lines([both])
