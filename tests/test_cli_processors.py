"""``cta processors``: the kafka backend's processors only."""

from __future__ import annotations

import pytest

from cta.cli import build_parser, main


def test_processors_is_a_command_with_a_backend_option() -> None:
    args = build_parser().parse_args(["processors", "--backend", "kafka"])
    assert (args.command, args.backend) == ("processors", "kafka")


def test_processors_refuses_the_memory_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["processors", "--backend", "memory"]) == 2
    assert "--backend kafka" in capsys.readouterr().out
