from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from cta.data import default_network
from cta.domain.clock import CHICAGO, epoch_ms
from cta.domain.events import Direction, LineColor, TrainStatus
from cta.domain.lines import LINE_ORDER, Network
from cta.domain.ridership import DayTypeRidership
from cta.domain.simulation import Simulation, StepEvents, train_capacity

MIDNIGHT = datetime(2024, 3, 4, 0, 0, tzinfo=CHICAGO)  # a Monday


@cache
def network() -> Network:
    return default_network()


@cache
def riderless_network() -> Network:
    """The real lines with no riders: movement tests without thousands of turnstile events."""
    real = network()
    return Network(
        lines=real.lines,
        ridership={sid: DayTypeRidership(0, 0, 0) for sid in real.ridership},
        curve=real.curve,
    )


def test_placement_matches_the_original_spacing() -> None:
    sim = Simulation(riderless_network(), start=MIDNIGHT)
    events = sim.placement()
    assert len(events.arrivals) == 30
    assert all(a.prev_station_id is None and a.prev_direction is None for a in events.arrivals)
    assert all(a.train_status is TrainStatus.IN_SERVICE for a in events.arrivals)
    assert [a.line for a in events.arrivals] == [c for c in LINE_ORDER for _ in range(10)]
    assert list(sim.positions(LineColor.BLUE)) == [f"BL{n:03d}" for n in range(10)]
    # Blue, 33 stations: spacing 6; from index 36 on, placement wraps back in direction a.
    blue = list(sim.positions(LineColor.BLUE).values())
    assert blue == [(i, Direction.B) for i in (0, 6, 12, 18, 24, 30)] + [
        (i, Direction.A) for i in (28, 22, 16, 10)
    ]
    # Green, 28 stations: spacing 5.
    green = list(sim.positions(LineColor.GREEN).values())
    assert green == [(i, Direction.B) for i in (0, 5, 10, 15, 20, 25)] + [
        (i, Direction.A) for i in (24, 19, 14, 9)
    ]
    stations = network().lines[LineColor.GREEN].stations
    green_events = [a for a in events.arrivals if a.line is LineColor.GREEN]
    assert [a.station_id for a in green_events] == [stations[i].station_id for i, _ in green]


def test_placement_reports_the_weather_whatever_the_minute_and_only_once() -> None:
    on_the_hour = Simulation(riderless_network(), start=MIDNIGHT)
    assert on_the_hour.placement().weather is not None
    with pytest.raises(RuntimeError, match="once"):
        on_the_hour.placement()
    past_the_hour = Simulation(riderless_network(), start=MIDNIGHT + timedelta(minutes=35))
    reading = past_the_hour.placement().weather
    assert reading is not None
    assert reading.timestamp_ms == epoch_ms(MIDNIGHT + timedelta(minutes=35))


def test_after_a_start_past_the_hour_weather_comes_again_on_the_hour() -> None:
    sim = Simulation(riderless_network(), start=MIDNIGHT + timedelta(minutes=35))
    sim.placement()
    weather_at = [events.at for events in (sim.step() for _ in range(24)) if events.weather]
    assert [(at.hour, at.minute) for at in weather_at] == [(1, 0), (2, 0)]


def test_step_moves_every_train_exactly_one_station() -> None:
    sim = Simulation(riderless_network(), start=MIDNIGHT)
    sim.placement()
    for _ in range(70):
        before = {color: sim.positions(color) for color in LINE_ORDER}
        events = sim.step()
        assert Counter(a.line for a in events.arrivals) == {c: 10 for c in LINE_ORDER}
        for arrival in events.arrivals:
            line = network().lines[arrival.line]
            old_index, old_direction = before[arrival.line][arrival.train_id]
            new_index, new_direction = sim.positions(arrival.line)[arrival.train_id]
            assert abs(new_index - old_index) == 1
            assert arrival.station_id == line.stations[new_index].station_id
            assert arrival.direction is new_direction
            assert arrival.prev_station_id == line.stations[old_index].station_id
            assert arrival.prev_direction is old_direction
            assert arrival.timestamp_ms == epoch_ms(sim.now)


def test_trains_turn_around_at_the_terminals() -> None:
    sim = Simulation(riderless_network(), trains_per_line=1, start=MIDNIGHT)
    sim.placement()
    last = len(network().lines[LineColor.RED]) - 1
    trail = [sim.positions(LineColor.RED)["RL000"]]
    for _ in range(2 * last):
        sim.step()
        trail.append(sim.positions(LineColor.RED)["RL000"])
    assert trail[last - 1] == (last - 1, Direction.B)
    assert trail[last] == (last, Direction.A)  # a b-train reaching the end arrives as a
    assert trail[last + 1] == (last - 1, Direction.A)
    assert trail[2 * last - 1] == (1, Direction.A)
    assert trail[2 * last] == (0, Direction.B)  # an a-train reaching index 0 arrives as b


@pytest.mark.parametrize("trains", [1, 3, 10, 20, 54])
def test_no_train_lost_duplicated_or_doubled_up_over_500_steps(trains: int) -> None:
    sim = Simulation(riderless_network(), trains_per_line=trains, start=MIDNIGHT)
    sim.placement()
    ids = {color: set(sim.positions(color)) for color in LINE_ORDER}
    assert all(len(train_ids) == trains for train_ids in ids.values())
    for _ in range(500):
        events = sim.step()
        arrivals_per_train = Counter((a.line, a.train_id) for a in events.arrivals)
        assert set(arrivals_per_train.values()) == {1}
        for color in LINE_ORDER:
            positions = sim.positions(color)
            last = len(network().lines[color]) - 1
            assert set(positions) == ids[color]
            assert len(set(positions.values())) == trains  # one train per slot
            assert all(
                (index, direction) not in ((0, Direction.A), (last, Direction.B))
                for index, direction in positions.values()
            )


@pytest.mark.parametrize("trains", [0, -1, train_capacity(28) + 1])
def test_train_count_the_line_cannot_hold_is_refused(trains: int) -> None:
    with pytest.raises(ValueError, match=rf"holds 1 to \d+ trains, not {trains}"):
        Simulation(riderless_network(), trains_per_line=trains, start=MIDNIGHT)


def test_weather_on_every_simulated_hour() -> None:
    sim = Simulation(riderless_network(), start=MIDNIGHT)
    sim.placement()
    steps = [sim.step() for _ in range(36)]
    with_weather = [e.at for e in steps if e.weather is not None]
    assert with_weather == [MIDNIGHT + timedelta(hours=h) for h in (1, 2, 3)]
    assert all(e.weather.timestamp_ms == epoch_ms(e.at) for e in steps if e.weather)


def test_steps_advance_the_clock_and_stamp_events() -> None:
    sim = Simulation(network(), start=MIDNIGHT)
    sim.placement()
    events = sim.step()
    assert events.at == sim.now == MIDNIGHT + timedelta(minutes=5)
    stamps = {a.timestamp_ms for a in events.arrivals} | {t.timestamp_ms for t in events.turnstiles}
    assert stamps == {epoch_ms(MIDNIGHT) + 300_000}


def test_turnstile_entries_on_saturday_eight_oclock() -> None:
    saturday = datetime(2024, 3, 9, 7, 55, tzinfo=CHICAGO)
    sim = Simulation(network(), start=saturday)
    events = sim.step()
    assert events.at.hour == 8
    howard = 40900  # on the red line only
    per_station = Counter((t.station_id, t.line) for t in events.turnstiles)
    expected = network().ridership[howard].saturday * 0.125 / 12
    assert sim.turnstile_model.expected(howard, events.at) == pytest.approx(expected)
    bound = sim.turnstile_model.noise_bound + 1
    assert abs(per_station[howard, LineColor.RED] - expected) <= bound
    entry = next(t for t in events.turnstiles if t.station_id == howard)
    assert (entry.station_name, entry.line) == ("Howard", LineColor.RED)
    # Every station of every line gets its own count; lines come in order blue, red, green.
    for (station_id, _line), count in per_station.items():
        assert abs(count - sim.turnstile_model.expected(station_id, events.at)) <= bound
    first_line_seen = list(dict.fromkeys(t.line for t in events.turnstiles))
    assert first_line_seen == list(LINE_ORDER)


def test_day_type_and_hour_come_from_chicago_time() -> None:
    # 03:00 UTC on Sunday 10 March is 21:00 on Saturday 9 March in Chicago.
    sim = Simulation(network(), start=datetime(2024, 3, 10, 2, 55, tzinfo=UTC))
    events = sim.step()
    assert (events.at.day, events.at.hour) == (9, 21)
    shared = 40380  # Clark/Lake, on blue and green: each line's turnstile takes half
    expected = network().ridership[shared].saturday * network().curve.share(21) / 12 / 2
    assert sim.turnstile_model.expected(shared, events.at) == pytest.approx(expected)


def test_a_days_entries_match_the_stations_ridership_without_doubling() -> None:
    sim = Simulation(network(), start=MIDNIGHT)
    total = sum(len(sim.step().turnstiles) for _ in range(288))
    stations = {sid for line in network().lines.values() for sid in line.station_ids}
    daily = sum(network().ridership[sid].weekday for sid in stations)
    assert total == pytest.approx(daily * sum(network().curve.shares), rel=0.01)


def run(seed: int, steps: int = 40) -> list[StepEvents]:
    sim = Simulation(network(), seed=seed, start=MIDNIGHT + timedelta(hours=7))
    return [sim.placement(), *(sim.step() for _ in range(steps))]


def test_same_seed_and_start_give_identical_events() -> None:
    assert run(seed=3) == run(seed=3)
    assert run(seed=3) != run(seed=4)
