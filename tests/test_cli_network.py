"""``--network``, ``--month`` and ``--trains`` on the command line."""

from __future__ import annotations

import argparse

import pytest

from cta.cli import main, train_counts_option
from cta.domain.events import LineColor


def test_trains_is_one_count_or_counts_per_line() -> None:
    assert train_counts_option("8") == 8
    assert train_counts_option("brown=6,red=12") == {LineColor.BROWN: 6, LineColor.RED: 12}
    with pytest.raises(argparse.ArgumentTypeError, match="teal=3"):
        train_counts_option("teal=3")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--network", "seed", "--month", "2019-10"], "October 2018 figures only"),
        (["--month", "1999-01"], "covers 2001-01 to 2024-04"),
    ],
)
def test_a_network_choice_the_data_lacks_is_a_clear_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--steps", "1", *argv]) == 2
    assert message in capsys.readouterr().err
