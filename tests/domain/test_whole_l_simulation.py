"""Trains on the whole 'L': service patterns, the Loop, Green's branches, a week of movement."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise

import pytest

from cta.data_l import load_network
from cta.domain.clock import CHICAGO
from cta.domain.events import Arrival, Direction, LineColor
from cta.domain.lines import Network
from cta.domain.ridership import DayTypeRidership
from cta.domain.simulation import Simulation

MONDAY = datetime(2024, 4, 1, 0, 0, tzinfo=CHICAGO)
STEPS_PER_WEEK = 7 * 24 * 12  # 5-minute steps
KIMBALL, MIDWAY, HARLEM_LAKE = 41290, 40930, 40020
ASHLAND_63RD, COTTAGE_GROVE, CLARK_LAKE = 40290, 40720, 40380
BROWN_LOOP = [40730, 40040, 40160, 40850, 40680, 41700, 40260, 40380]
ORANGE_LOOP = [40850, 40160, 40040, 40730, 40380, 40260, 41700, 40680]


@cache
def riderless() -> Network:
    real = load_network("l")
    none = DayTypeRidership(0, 0, 0)
    return Network(
        lines=real.lines,
        ridership=dict.fromkeys(real.ridership, none),
        curve=real.curve,
        month=real.month,
        closed=real.closed,
        trains=real.trains,
        name=real.name,
    )


def trail(color: LineColor, *, steps: int) -> list[Arrival]:
    """The arrivals of one train of ``color`` running alone, placement first."""
    sim = Simulation(riderless(), trains_per_line={color: 1}, start=MONDAY)
    arrivals = [a for a in sim.placement().arrivals if a.line is color]
    for _ in range(steps):
        arrivals.extend(a for a in sim.step().arrivals if a.line is color)
    return arrivals


def test_trains_per_line_scale_with_length_and_can_be_set_per_line() -> None:
    sim = Simulation(riderless(), start=MONDAY)
    counts = {color: len(sim.positions(color)) for color in riderless().lines}
    assert counts[LineColor.GREEN] > counts[LineColor.RED] > counts[LineColor.ORANGE]
    assert counts[LineColor.ORANGE] > counts[LineColor.YELLOW] == 1
    custom = Simulation(riderless(), trains_per_line={LineColor.BROWN: 3}, start=MONDAY)
    assert len(custom.positions(LineColor.BROWN)) == 3
    assert len(custom.positions(LineColor.RED)) == counts[LineColor.RED]
    assert sorted(custom.positions(LineColor.BROWN)) == ["BR000", "BR001", "BR002"]


def test_a_brown_train_goes_from_kimball_round_the_outer_loop_and_back() -> None:
    brown = riderless().lines[LineColor.BROWN].patterns[0]
    arrivals = trail(LineColor.BROWN, steps=60)
    stations = [a.station_id for a in arrivals]
    assert stations[0] == KIMBALL
    trunk = list(brown.trunk)
    expected = [*trunk, *BROWN_LOOP, *reversed(trunk[1:]), KIMBALL]
    assert stations[: len(expected)] == expected  # counter-clockwise: Wells, Van Buren, Wabash
    names = {a.station_id: a.direction_name for a in arrivals[: len(trunk)]}
    assert set(names.values()) == {"To the Loop"}
    assert {a.direction_name for a in arrivals[len(trunk) : len(expected) - 1]} == {"To Kimball"}
    assert {a.direction for a in arrivals[len(trunk) : len(trunk) + 8]} == {Direction.A}


def test_an_orange_train_goes_from_midway_round_the_inner_loop_clockwise() -> None:
    arrivals = trail(LineColor.ORANGE, steps=30)
    stations = [a.station_id for a in arrivals]
    assert stations[0] == MIDWAY
    loop_at = stations.index(ORANGE_LOOP[0])
    assert stations[loop_at : loop_at + 8] == ORANGE_LOOP  # Van Buren, Wells, Lake, Wabash
    assert MIDWAY in stations[loop_at + 8 :]


def test_no_train_turns_anywhere_but_a_terminal() -> None:
    network = riderless()
    terminals = {
        station
        for line in network.lines.values()
        for pattern in line.service_patterns
        for station in (pattern.terminal, pattern.far_terminal)
        if station is not None
    }
    sim = Simulation(network, start=MONDAY)
    by_train: dict[str, list[int]] = defaultdict(list)
    for arrival in sim.placement().arrivals:
        by_train[arrival.train_id].append(arrival.station_id)
    for _ in range(150):
        for arrival in sim.step().arrivals:
            by_train[arrival.train_id].append(arrival.station_id)
    for train, stations in by_train.items():
        for before, here, after in zip(stations, stations[1:], stations[2:], strict=False):
            if before == after:
                assert here in terminals, f"{train} turned at {here}"


def test_green_trains_alternate_between_the_two_south_branches() -> None:
    sim = Simulation(riderless(), start=MONDAY)
    sim.placement()
    terminals: list[int] = []
    for _ in range(300):
        terminals.extend(
            a.station_id
            for a in sim.step().arrivals
            if a.station_id in (ASHLAND_63RD, COTTAGE_GROVE)
        )
    assert set(terminals) == {ASHLAND_63RD, COTTAGE_GROVE}
    assert all(a != b for a, b in pairwise(terminals))
    # And each train serves both branches in turn.
    one = trail(LineColor.GREEN, steps=120)
    reached = [a.station_id for a in one if a.station_id in (ASHLAND_63RD, COTTAGE_GROVE)]
    assert reached[:2] == [ASHLAND_63RD, COTTAGE_GROVE]


def test_directions_are_named_as_riders_read_them() -> None:
    sim = Simulation(riderless(), start=MONDAY)
    names: dict[LineColor, set[str]] = defaultdict(set)
    for _ in range(120):
        for arrival in sim.step().arrivals:
            assert arrival.direction_name
            names[arrival.line].add(arrival.direction_name)
    assert names[LineColor.BLUE] == {"To O'Hare", "To Forest Park"}
    assert names[LineColor.BROWN] == {"To Kimball", "To the Loop"}
    assert names[LineColor.GREEN] == {"To Harlem/Lake", "To Ashland/63rd", "To Cottage Grove"}
    assert names[LineColor.YELLOW] == {"To Dempster-Skokie", "To Howard"}


def test_a_week_loses_no_train_and_every_arrival_names_the_station_it_left() -> None:
    network = riderless()
    sim = Simulation(network, start=MONDAY)
    placed = sim.placement().arrivals
    where = {(a.line, a.train_id): (a.station_id, a.direction) for a in placed}
    assert len(where) == len(placed) == sum((network.trains or {}).values())
    for _ in range(STEPS_PER_WEEK):
        events = sim.step()
        assert Counter((a.line, a.train_id) for a in events.arrivals) == Counter(where.keys())
        for arrival in events.arrivals:
            key = (arrival.line, arrival.train_id)
            assert (arrival.prev_station_id, arrival.prev_direction) == where[key]
            where[key] = (arrival.station_id, arrival.direction)
        for color in network.lines:
            places = sim.places(color)
            spots = Counter((p.station_id, p.direction) for p in places.values())
            assert max(spots.values()) == 1, f"two {color} trains share a place"
    assert sim.now == MONDAY + timedelta(weeks=1)


def test_clark_lake_is_served_by_six_lines() -> None:
    serving = {c for c, line in riderless().lines.items() if CLARK_LAKE in line.station_ids}
    assert {c.value for c in serving} == {"blue", "brown", "green", "orange", "pink", "purple"}


@pytest.mark.parametrize("color", list(LineColor))
def test_every_line_can_run_a_single_train(color: LineColor) -> None:
    assert len(trail(color, steps=3)) == 4
