"""ConnectClient against the documented Kafka Connect REST shapes (``responses``)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from cta.connect.client import ConnectClient, ConnectError, ConnectorFailed, ConnectorTimeout

BASE = "http://connect.test:8083"
CONFIG = {"connector.class": "io.debezium.connector.postgresql.PostgresConnector"}


def status_body(connector: str = "RUNNING", *tasks: dict[str, object]) -> dict[str, object]:
    return {
        "name": "stations",
        "connector": {"state": connector, "worker_id": "10.0.0.1:8083"},
        "tasks": list(tasks),
        "type": "source",
    }


def task(state: str, trace: str | None = None, task_id: int = 0) -> dict[str, object]:
    body: dict[str, object] = {"id": task_id, "state": state, "worker_id": "10.0.0.1:8083"}
    if trace:
        body["trace"] = trace
    return body


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> ConnectClient:
    return ConnectClient(BASE, sleep=sleeps.append, attempts=4, backoff=0.1)


def created(name: str = "stations") -> dict[str, object]:
    return {
        "name": name,
        "config": {**CONFIG, "name": name},
        "tasks": [{"connector": name, "task": 0}],
        "type": "source",
    }


@responses.activate
@pytest.mark.parametrize("status", [201, 200])
def test_apply_puts_the_flat_config(client: ConnectClient, status: int) -> None:
    responses.put(f"{BASE}/connectors/stations/config", json=created(), status=status)
    client.apply("stations", CONFIG)
    sent = responses.calls[0].request
    assert json.loads(sent.body or b"") == CONFIG
    assert sent.headers["Content-Type"] == "application/json"


@responses.activate
def test_apply_retries_a_rebalance_with_backoff(client: ConnectClient, sleeps: list[float]) -> None:
    url = f"{BASE}/connectors/stations/config"
    rebalance = {"error_code": 409, "message": "Cannot complete request during a rebalance"}
    responses.put(url, json=rebalance, status=409)
    responses.put(url, json=rebalance, status=409)
    responses.put(url, json=created(), status=201)
    client.apply("stations", CONFIG)
    assert len(responses.calls) == 3
    assert sleeps == [0.1, 0.2]


@responses.activate
def test_errors_past_the_retries_raise_with_connects_message(client: ConnectClient) -> None:
    responses.get(f"{BASE}/connectors", json={"error_code": 500, "message": "boom"}, status=500)
    with pytest.raises(ConnectError, match="500: boom") as caught:
        client.connectors()
    assert len(responses.calls) == 4 and caught.value.error_code == 500


@responses.activate
def test_unreachable_connect_is_retried_then_reported(
    client: ConnectClient, sleeps: list[float]
) -> None:
    responses.get(f"{BASE}/connectors", body=requests.ConnectionError("refused"))
    with pytest.raises(ConnectError, match="unreachable"):
        client.connectors()
    assert len(sleeps) == 3


@responses.activate
def test_status_of_unknown_connector_raises_404(client: ConnectClient) -> None:
    responses.get(
        f"{BASE}/connectors/nope/status",
        json={"error_code": 404, "message": "Connector nope not found"},
        status=404,
    )
    with pytest.raises(ConnectError, match="Connector nope not found") as caught:
        client.status("nope")
    assert caught.value.error_code == 404


@responses.activate
def test_wait_running_polls_until_connector_and_tasks_run(
    client: ConnectClient, sleeps: list[float]
) -> None:
    url = f"{BASE}/connectors/stations/status"
    responses.get(url, json={"error_code": 404, "message": "not yet"}, status=404)
    responses.get(url, json=status_body("UNASSIGNED"))
    responses.get(url, json=status_body("RUNNING", task("RUNNING")))
    status = client.wait_running("stations", timeout=30)
    assert status.running and status.task_states == ("RUNNING",)
    assert len(sleeps) == 2


@responses.activate
def test_wait_running_raises_with_the_failed_tasks_trace(client: ConnectClient) -> None:
    trace = "org.apache.kafka.connect.errors.ConnectException: slot in use\n\tat ..."
    responses.get(
        f"{BASE}/connectors/stations/status",
        json=status_body("RUNNING", task("RUNNING", task_id=1), task("FAILED", trace)),
    )
    with pytest.raises(ConnectorFailed, match="slot in use") as caught:
        client.wait_running("stations")
    assert caught.value.status.task_states == ("FAILED", "RUNNING")


@responses.activate
def test_wait_running_times_out_naming_the_last_state(client: ConnectClient) -> None:
    responses.get(f"{BASE}/connectors/stations/status", json=status_body("UNASSIGNED"))
    with pytest.raises(ConnectorTimeout, match="last state: connector UNASSIGNED, tasks \\[\\]"):
        client.wait_running("stations", timeout=0.0)


@responses.activate
@pytest.mark.parametrize("status", [204, 404])
def test_delete_accepts_gone(client: ConnectClient, status: int) -> None:
    responses.delete(f"{BASE}/connectors/stations", status=status)
    client.delete("stations")
    assert responses.calls[0].request.method == "DELETE"


@responses.activate
def test_connectors_lists_names(client: ConnectClient) -> None:
    responses.get(f"{BASE}/connectors", json=["stations", "other"])
    assert client.connectors() == ["stations", "other"]
