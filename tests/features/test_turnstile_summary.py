"""Steps of features/turnstile_summary.feature."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_bdd import scenarios, then

from cta import topics
from cta.ksql.client import statement_files
from tests.features.conftest import World, latest_per_key

pytestmark = pytest.mark.network("seed")

scenarios("turnstile_summary.feature")


def summary(world: World) -> dict[Any, dict[str, Any]]:
    table = latest_per_key(world.records(topics.TURNSTILE_SUMMARY))
    return {json.loads(key): json.loads(value) for key, value in table.items()}


@then("the sum of the TURNSTILE_SUMMARY counts equals the turnstile events produced")
def _sum(world: World) -> None:
    produced = sum(len(step.turnstiles) for step in world.steps)
    assert produced > 0
    counts = summary(world)
    assert sum(row["COUNT"] for row in counts.values()) == produced


@then("every station with entries has a summary row keyed by its station id")
def _keyed(world: World) -> None:
    with_entries = {entry.station_id for step in world.steps for entry in step.turnstiles}
    rows = summary(world)
    assert set(rows) == with_entries
    assert all(key == row["STATION_ID"] for key, row in rows.items())


def _summary_queries(world: World) -> list[dict[str, Any]]:
    return [q for q in world.backend.ksql.queries() if "TURNSTILE_SUMMARY" in json.dumps(q).upper()]


@then("the KSQL statements created the stream TURNSTILE and the table TURNSTILE_SUMMARY")
def _created(world: World) -> None:
    assert len(_summary_queries(world)) == 1


@then("submitting the statement files again is not an error")
def _again(world: World) -> None:
    for path in statement_files():
        results = world.backend.ksql.execute(path.read_text(encoding="utf-8"))
        assert results and all(r.status in {"SUCCESS", "EXISTS"} for r in results), results
    assert len(_summary_queries(world)) == 1, "a second run started a second query"
