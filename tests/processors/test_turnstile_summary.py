from __future__ import annotations

import pytest

from cta.processors.turnstile_summary import TurnstileCounter, count_entries, summary_value


def test_count_entries_counts_each_station() -> None:
    assert count_entries([40380, 40380, 41400, 40380]) == {40380: 3, 41400: 1}
    assert count_entries([]) == {}


def test_counter_returns_the_new_total_and_agrees_with_count_entries() -> None:
    ids = [1, 2, 1, 3, 1, 2]
    counter: TurnstileCounter[int] = TurnstileCounter()
    totals = [counter.add(i) for i in ids]
    assert totals == [1, 1, 2, 1, 3, 2]
    assert counter.counts() == count_entries(ids)
    assert counter.total() == len(ids)


def test_counter_resumes_from_restored_totals() -> None:
    counter: TurnstileCounter[int] = TurnstileCounter({7: 10})
    counter.restore(8, 4)
    assert counter.add(7) == 11
    assert counter.add(8) == 5
    counter.forget(8)
    assert counter.count(8) == 0
    with pytest.raises(ValueError, match="negative"):
        counter.restore(9, -1)


def test_summary_value_uses_the_dashboard_field_names() -> None:
    assert summary_value(40380, 3) == {"STATION_ID": 40380, "COUNT": 3}
