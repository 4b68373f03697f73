from __future__ import annotations

from pathlib import Path

import pytest

from cta.data import (
    CURVE_FILE,
    RIDERSHIP_FILE,
    STOPS_FILE,
    DataError,
    default_network,
    fixtures_dir,
    load_hourly_curve,
    load_ridership,
    load_station_rows,
)
from cta.domain.events import LineColor

REPO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STOPS_HEADER = "stop_id,direction,stop_name,station_name,descriptive_name,station_id,order,line"
GOOD_STOP = "30001,N,Jarvis (Howard-bound),Jarvis,Jarvis (Red Line),41190,1,red"


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


# --- the packaged fixtures -------------------------------------------------------------------


def test_all_230_stop_rows_load_with_unique_stop_ids() -> None:
    rows = load_station_rows()
    assert len(rows) == 230
    assert len({row.stop_id for row in rows}) == 230


def test_rows_on_no_simulated_line_keep_every_flag_false() -> None:
    rows = load_station_rows()
    unflagged = [row for row in rows if not (row.red or row.blue or row.green)]
    assert len(unflagged) == 42
    assert len({row.station_id for row in unflagged}) == 21
    assert all(row.red + row.blue + row.green <= 1 for row in rows)


def test_ran_ryan_typo_is_corrected_to_dan_ryan() -> None:
    rows = [row for row in load_station_rows() if row.station_id == 40450]
    assert len(rows) == 2
    assert {row.station_name for row in rows} == {"95th/Dan Ryan"}
    assert {row.station_descriptive_name for row in rows} == {"95th/Dan Ryan (Red Line)"}
    assert not any("Ran Ryan" in row.stop_name for row in load_station_rows())


def test_default_network_has_the_expected_lines() -> None:
    network = default_network()
    assert {color: len(line) for color, line in network.lines.items()} == {
        LineColor.BLUE: 33,
        LineColor.RED: 33,
        LineColor.GREEN: 28,
    }
    assert network.stations_without_ridership() == []
    assert network.curve.share(8) == 0.125


def test_two_harlems_stay_two_blue_stations() -> None:
    blue = default_network().lines[LineColor.BLUE]
    harlems = [s for s in blue.stations if s.name == "Harlem"]
    assert [s.station_id for s in harlems] == [40750, 40980]


def test_shared_stations_are_on_both_lines() -> None:
    lines = default_network().lines
    assert 40380 in lines[LineColor.BLUE].station_ids
    assert 40380 in lines[LineColor.GREEN].station_ids
    assert 41400 in lines[LineColor.RED].station_ids
    assert 41400 in lines[LineColor.GREEN].station_ids


def test_ridership_and_curve_fixtures() -> None:
    ridership = load_ridership()
    assert len(ridership) == 144
    assert ridership[40380].weekday == pytest.approx(22811.6)
    assert ridership[40380].saturday == pytest.approx(6901.8)
    assert ridership[40380].sunday_holiday == pytest.approx(6233.5)
    curve = load_hourly_curve()
    assert len(curve.shares) == 24
    assert sum(curve.shares) == pytest.approx(0.99)


def test_fixtures_dir_follows_the_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTA_FIXTURES_DIR", raising=False)
    assert fixtures_dir().resolve() == REPO_FIXTURES
    for name in (STOPS_FILE, RIDERSHIP_FILE, CURVE_FILE):
        (tmp_path / name).write_bytes((REPO_FIXTURES / name).read_bytes())
    write(tmp_path, STOPS_FILE, STOPS_HEADER, GOOD_STOP)
    monkeypatch.setenv("CTA_FIXTURES_DIR", str(tmp_path))
    assert fixtures_dir() == tmp_path
    assert [row.stop_id for row in load_station_rows()] == [30001]


# --- bad rows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("30002,N,Jarvis,Jarvis,Jarvis (Red Line),41190,1", "expected 8 columns, got 7"),
        ("x30002,N,Jarvis,Jarvis,Jarvis (Red Line),41190,1,red", "stop_id 'x30002'"),
        ("30002,N,Jarvis,Jarvis,Jarvis (Red Line),4119O,1,red", "station_id '4119O'"),
        ("30002,N,Jarvis,Jarvis,Jarvis (Red Line),41190,-1,red", "order '-1'"),
        ("30002,N,Jarvis,Jarvis,Jarvis (Red Line),41190,1,TRUE", "line 'TRUE'"),
        ("30002,Q,Jarvis,Jarvis,Jarvis (Red Line),41190,1,red", "direction 'Q'"),
        ("30002,N,Jarvis, ,Jarvis (Red Line),41190,1,red", "station_name ' '"),
        (GOOD_STOP, "duplicate stop_id 30001 (first on line 3)"),
    ],
)
def test_bad_stop_row_names_file_and_line(tmp_path: Path, bad_line: str, reason: str) -> None:
    path = write(tmp_path, STOPS_FILE, STOPS_HEADER, "", GOOD_STOP, bad_line)
    with pytest.raises(DataError) as caught:
        load_station_rows(path)
    assert caught.value.path == path
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{path}:4: ")
    assert reason in str(caught.value)


def test_wrong_header_is_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, STOPS_FILE, STOPS_HEADER.replace("order", "position"), GOOD_STOP)
    with pytest.raises(DataError, match=r":1: expected header"):
        load_station_rows(path)


def test_error_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fixtures").mkdir()
    write(tmp_path / "fixtures", STOPS_FILE, STOPS_HEADER, GOOD_STOP, "30002,N")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as caught:
        load_station_rows(Path("fixtures") / STOPS_FILE)
    assert str(caught.value) == "fixtures/stops.csv:3: expected 8 columns, got 2"


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_ridership(tmp_path / "nope.csv")


def test_unterminated_quote_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path, STOPS_FILE, STOPS_HEADER, '30001,N,"Jarvis,Jarvis')
    with pytest.raises(DataError, match="malformed CSV"):
        load_station_rows(path)


RIDERSHIP_HEADER = "station_id,station_name,weekday,saturday,sunday_holiday"


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("40020,Harlem-Lake,-1,2,3", "weekday '-1'"),
        ("40020,Harlem-Lake,1,nan,3", "saturday 'nan'"),
        ("40020,Harlem-Lake,1,2", "expected 5 columns"),
        ("40010,Austin,1,2,3", "duplicate station_id 40010 (first on line 2)"),
    ],
)
def test_bad_ridership_row(tmp_path: Path, bad_line: str, reason: str) -> None:
    path = write(tmp_path, RIDERSHIP_FILE, RIDERSHIP_HEADER, "40010,Austin,1,2,3", bad_line)
    with pytest.raises(DataError, match=r":3: ") as caught:
        load_ridership(path)
    assert reason in str(caught.value)


def curve_lines(**overrides: str) -> list[str]:
    lines = {f"{hour}": f"{hour},0.04" for hour in range(24)}
    lines.update(overrides)
    return ["hour,share", *lines.values()]


def test_curve_loads_hours_in_order(tmp_path: Path) -> None:
    lines = curve_lines()
    path = write(tmp_path, CURVE_FILE, lines[0], *reversed(lines[1:]))
    assert load_hourly_curve(path).shares == (0.04,) * 24


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"23": "24,0.01"}, ":25: hour 24 is outside 0-23"),
        ({"23": "22,0.01"}, ":25: duplicate hour 22"),
        ({"5": "5,1.5"}, ":7: share 1.5 is above 1"),
        ({"5": "five,0.1"}, ":7: hour 'five'"),
    ],
)
def test_bad_curve(tmp_path: Path, overrides: dict[str, str], reason: str) -> None:
    path = write(tmp_path, CURVE_FILE, *curve_lines(**overrides))
    with pytest.raises(DataError) as caught:
        load_hourly_curve(path)
    assert reason in str(caught.value)


def test_curve_missing_an_hour(tmp_path: Path) -> None:
    path = write(tmp_path, CURVE_FILE, *curve_lines()[:-1])
    with pytest.raises(DataError, match=r"missing hour\(s\) \[23\]"):
        load_hourly_curve(path)


def test_network_without_ridership_for_a_station_is_refused(tmp_path: Path) -> None:
    for name in (STOPS_FILE, CURVE_FILE):
        (tmp_path / name).write_bytes((REPO_FIXTURES / name).read_bytes())
    kept = [
        line
        for line in (REPO_FIXTURES / RIDERSHIP_FILE).read_text().splitlines()
        if not line.startswith("40380,")
    ]
    write(tmp_path, RIDERSHIP_FILE, *kept)
    with pytest.raises(DataError, match=r"no row for simulated station\(s\) \[40380\]"):
        default_network(tmp_path)
