from __future__ import annotations

from pathlib import Path

import pytest

from cta.stack import StackConfig, services
from cta.stack.service import Service, start_order


def _service(name: str, *needs: str) -> Service:
    return Service(name, ["true"], lambda: True, Path(f"{name}.log"), depends_on=needs)


def test_dependencies_start_first_and_order_is_otherwise_kept() -> None:
    given = [_service("proxy", "kafka", "registry"), _service("kafka"), _service("registry")]
    assert [s.name for s in start_order(given)] == ["kafka", "registry", "proxy"]


def test_a_cycle_is_refused_with_its_path() -> None:
    with pytest.raises(ValueError, match="a -> b -> a"):
        start_order([_service("a", "b"), _service("b", "a")])


def test_an_unknown_dependency_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown service 'zookeeper'"):
        start_order([_service("kafka", "zookeeper")])


def test_the_stack_starts_postgres_and_kafka_before_their_users(tmp_path: Path) -> None:
    config = StackConfig(state_dir=tmp_path)
    names = [s.name for s in services(config)]
    assert names.index("kafka") < names.index("connect")
    assert names.index("registry") < names.index("rest-proxy")
    assert names[0] == "postgres"
    logs = {s.log_file.parent for s in services(config)}
    assert logs == {tmp_path / "logs"}


def test_up_refuses_unknown_service_names(tmp_path: Path) -> None:
    from cta.stack import StackError, up

    with pytest.raises(StackError, match="unknown services \\['zookeeper'\\]"):
        up(StackConfig(state_dir=tmp_path, cache_dir=tmp_path / "cache"), only=["zookeeper"])


def test_a_selection_brings_its_dependencies() -> None:
    from cta.stack.lifecycle import _selected

    ordered = start_order([_service("kafka"), _service("registry"), _service("proxy", "kafka")])
    assert [s.name for s in _selected(ordered, ["proxy"])] == ["kafka", "proxy"]
    assert [s.name for s in _selected(ordered, None)] == ["kafka", "registry", "proxy"]


def test_the_command_refuses_an_unknown_action(capsys: pytest.CaptureFixture[str]) -> None:
    from cta.stack import main

    assert main("restart") == 2
    assert "unknown action 'restart'" in capsys.readouterr().err
