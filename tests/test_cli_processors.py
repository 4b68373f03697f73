"""``cta processors``: the kafka backend's processors only."""

from __future__ import annotations

import pytest

from cta.cli import build_parser, main


def test_processors_is_a_command_with_a_backend_option() -> None:
    args = build_parser().parse_args(["processors", "--backend", "kafka"])
    assert (args.command, args.backend) == ("processors", "kafka")
    assert (args.instances, args.metrics_base_port) == (1, None)


def test_processors_takes_a_number_of_instances_and_a_metrics_base_port() -> None:
    args = build_parser().parse_args(
        ["processors", "--instances", "3", "--metrics-base-port", "9310"]
    )
    assert (args.instances, args.metrics_base_port) == (3, 9310)


def test_processors_refuses_zero_instances(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["processors", "--instances", "0"])
    assert "positive" in capsys.readouterr().err


def test_processors_refuses_the_memory_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["processors", "--backend", "memory"]) == 2
    assert "--backend kafka" in capsys.readouterr().out
