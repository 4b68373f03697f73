"""Contract tests: the client against ksqlDB's documented request and response shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from cta.ksql.client import KsqlClient, KsqlClientError, statement_files

BASE = "http://ksqldb:8088"
KSQL_JSON = "application/vnd.ksql.v1+json"
CREATE = "CREATE STREAM IF NOT EXISTS s WITH (KAFKA_TOPIC='t', VALUE_FORMAT='AVRO');"
CTAS = "CREATE TABLE t AS SELECT a, COUNT(*) AS c FROM s GROUP BY a EMIT CHANGES;"


def current_status(
    text: str, command_id: str, status: str, **extra: str
) -> list[dict[str, object]]:
    return [
        {
            "@type": "currentStatus",
            "statementText": text,
            "commandId": command_id,
            "commandStatus": {"status": status, "message": "msg", **extra},
            "commandSequenceNumber": 4,
            "warnings": [],
        }
    ]


def ksql_request(text: str, props: dict[str, str] | None = None) -> list[Any]:
    return [
        matchers.header_matcher({"Accept": KSQL_JSON, "Content-Type": KSQL_JSON}),
        matchers.json_params_matcher(
            {
                "ksql": text,
                "streamsProperties": props
                if props is not None
                else {"ksql.streams.auto.offset.reset": "earliest"},
            }
        ),
    ]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> KsqlClient:
    return KsqlClient(BASE, sleep=sleeps.append, attempts=4)


@responses.activate
def test_each_statement_is_posted_alone_with_ksql_headers(client: KsqlClient) -> None:
    responses.post(
        f"{BASE}/ksql",
        match=ksql_request(CREATE),
        json=current_status(CREATE, "stream/S/create", "SUCCESS"),
    )
    responses.post(
        f"{BASE}/ksql",
        match=ksql_request(CTAS),
        json=current_status(CTAS, "table/T/create", "SUCCESS", queryId="CTAS_T_5"),
    )
    results = client.execute(f"-- two statements\n{CREATE}\n{CTAS}\n")
    assert [(r.statement, r.command_id, r.status) for r in results] == [
        (CREATE, "stream/S/create", "SUCCESS"),
        (CTAS, "table/T/create", "SUCCESS"),
    ]
    assert results[1].query_id == "CTAS_T_5"
    assert len(responses.calls) == 2


@responses.activate
def test_already_exists_is_success(client: KsqlClient) -> None:
    plain = "CREATE STREAM s WITH (KAFKA_TOPIC='t', VALUE_FORMAT='AVRO');"
    responses.post(
        f"{BASE}/ksql",
        match=ksql_request(plain),
        status=400,
        json={
            "@type": "statement_error",
            "error_code": 40001,
            "message": "Cannot add stream 'S': A stream with the same name already exists",
            "statementText": plain,
            "entities": [],
        },
    )
    responses.post(
        f"{BASE}/ksql",
        match=ksql_request(CREATE),
        json=[
            {
                "@type": "warning_entity",
                "statementText": CREATE,
                "message": "Cannot add stream `S`: A stream with the same name already exists.",
                "warnings": [],
            }
        ],
    )
    results = client.execute(plain + CREATE)
    assert [r.status for r in results] == ["SUCCESS", "SUCCESS"]
    assert all("already exists" in r.message for r in results)


@responses.activate
def test_other_statement_errors_raise_with_the_message(client: KsqlClient) -> None:
    responses.post(
        f"{BASE}/ksql",
        status=400,
        json={
            "@type": "statement_error",
            "error_code": 40001,
            "message": "S does not exist.",
            "statementText": CTAS,
            "entities": [],
        },
    )
    with pytest.raises(KsqlClientError, match="S does not exist") as caught:
        client.execute(CTAS)
    assert caught.value.statement == CTAS


@responses.activate
def test_queued_command_is_polled_until_success(client: KsqlClient) -> None:
    responses.post(f"{BASE}/ksql", json=current_status(CTAS, "table/T/create", "QUEUED"))
    responses.get(f"{BASE}/status/table/T/create", json={"status": "EXECUTING", "message": ""})
    responses.get(
        f"{BASE}/status/table/T/create",
        json={
            "status": "SUCCESS",
            "message": "Created query with ID CTAS_T_5",
            "queryId": "CTAS_T_5",
        },
    )
    (result,) = client.execute(CTAS)
    assert (result.status, result.query_id) == ("SUCCESS", "CTAS_T_5")
    status_calls = [c for c in responses.calls if "/status/" in (c.request.url or "")]
    assert len(status_calls) == 2
    assert status_calls[0].request.headers["Accept"] == KSQL_JSON


@responses.activate
def test_error_status_raises_with_its_message(client: KsqlClient) -> None:
    responses.post(f"{BASE}/ksql", json=current_status(CTAS, "table/T/create", "PARSING"))
    responses.get(
        f"{BASE}/status/table/T/create",
        json={"status": "ERROR", "message": "Could not register schema"},
    )
    with pytest.raises(KsqlClientError, match="Could not register schema"):
        client.execute(CTAS)


@responses.activate
def test_503_and_connection_errors_are_retried_with_backoff(
    client: KsqlClient, sleeps: list[float]
) -> None:
    responses.post(f"{BASE}/ksql", status=503, body="starting")
    responses.post(f"{BASE}/ksql", body=requests.ConnectionError("refused"))
    responses.post(f"{BASE}/ksql", json=current_status(CREATE, "stream/S/create", "SUCCESS"))
    (result,) = client.execute(CREATE)
    assert result.status == "SUCCESS"
    assert len(responses.calls) == 3
    assert sleeps == [0.25, 0.5]


@responses.activate
def test_gives_up_after_the_last_attempt(client: KsqlClient) -> None:
    responses.post(f"{BASE}/ksql", status=503, body="down")
    with pytest.raises(KsqlClientError, match="after 4 attempts: HTTP 503"):
        client.execute(CREATE)
    assert len(responses.calls) == 4


@responses.activate
def test_queries_uses_show_queries(client: KsqlClient) -> None:
    query = {"id": "CTAS_T_5", "sinks": ["T"], "state": "RUNNING", "queryType": "PERSISTENT"}
    responses.post(
        f"{BASE}/ksql",
        match=ksql_request("SHOW QUERIES;", {}),
        json=[
            {
                "@type": "queries",
                "statementText": "SHOW QUERIES;",
                "queries": [query],
                "warnings": [],
            }
        ],
    )
    assert client.queries() == [query]


@responses.activate
def test_execute_files_runs_the_repository_statements_in_order(client: KsqlClient) -> None:
    seen: list[str] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        text = json.loads(request.body or b"{}")["ksql"]
        seen.append(text)
        return (
            200,
            {"Content-Type": KSQL_JSON},
            json.dumps(current_status(text, "x/Y/create", "SUCCESS")),
        )

    responses.add_callback(responses.POST, f"{BASE}/ksql", callback=answer)
    results = client.execute_files()
    assert len(results) == len(seen) == 4
    assert seen[0].startswith("CREATE STREAM IF NOT EXISTS turnstile")
    assert seen[1].startswith("CREATE TABLE IF NOT EXISTS turnstile_summary")
    assert seen[2].startswith("CREATE STREAM IF NOT EXISTS turnstile_by_event_time")
    assert seen[3].startswith("CREATE TABLE IF NOT EXISTS turnstile_hourly")
    assert [p.name for p in statement_files()] == [
        "01_turnstile.sql",
        "02_turnstile_summary.sql",
        "03_turnstile_hourly.sql",
    ]
