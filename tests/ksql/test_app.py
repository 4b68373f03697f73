"""The ksqlDB REST subset, driven through the real client over the in-process transport."""

from __future__ import annotations

import json

import pytest
import requests

from cta.http import in_process_session
from cta.ksql.app import KsqlApp
from cta.ksql.client import KsqlClient, KsqlClientError
from cta.runtime import drain
from tests.ksql.conftest import Stack

BASE = "http://ksqldb.test"
KSQL_JSON = "application/vnd.ksql.v1+json"


@pytest.fixture
def app(stack: Stack) -> KsqlApp:
    return KsqlApp(stack.engine())


@pytest.fixture
def session(app: KsqlApp) -> requests.Session:
    return in_process_session(BASE, app)


@pytest.fixture
def client(session: requests.Session) -> KsqlClient:
    return KsqlClient(BASE, session=session, sleep=lambda _: None)


def post(session: requests.Session, ksql: str, **props: str) -> requests.Response:
    return session.post(
        f"{BASE}/ksql",
        data=json.dumps({"ksql": ksql, "streamsProperties": props}),
        headers={"Content-Type": KSQL_JSON, "Accept": KSQL_JSON},
    )


def test_client_runs_the_statement_files_and_the_query_counts(
    client: KsqlClient, app: KsqlApp, stack: Stack
) -> None:
    stack.produce_entries([40380, 40380, 41400])
    results = client.execute_files()
    assert [(r.command_id, r.status) for r in results] == [
        ("stream/TURNSTILE/create", "SUCCESS"),
        ("table/TURNSTILE_SUMMARY/create", "SUCCESS"),
        ("stream/TURNSTILE_BY_EVENT_TIME/create", "SUCCESS"),
        ("table/TURNSTILE_HOURLY/create", "SUCCESS"),
    ]
    assert results[1].query_id == "CTAS_TURNSTILE_SUMMARY_2"
    assert results[3].query_id == "CTAS_TURNSTILE_HOURLY_4"
    drain(app.engine.pumps())
    assert stack.summary() == {40380: 2, 41400: 1}
    # Running the files again is a no-op that succeeds.
    again = client.execute_files()
    assert [r.status for r in again] == ["SUCCESS"] * 4
    assert all("already exists" in r.message for r in again)
    assert len(app.engine.queries()) == 2
    query, hourly = client.queries()
    assert hourly["id"] == "CTAS_TURNSTILE_HOURLY_4"
    assert hourly["sinkKafkaTopics"] == ["TURNSTILE_HOURLY"]
    assert query["id"] == "CTAS_TURNSTILE_SUMMARY_2"
    assert query["sinks"] == ["TURNSTILE_SUMMARY"]
    assert query["sinkKafkaTopics"] == ["TURNSTILE_SUMMARY"]
    assert query["state"] == "RUNNING"


def test_post_ksql_answers_current_status_entities(session: requests.Session) -> None:
    text = (
        "CREATE STREAM turnstile WITH (KAFKA_TOPIC='org.chicago.cta.turnstiles.v1', "
        "VALUE_FORMAT='AVRO');"
    )
    response = post(session, text, **{"ksql.streams.auto.offset.reset": "earliest"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == KSQL_JSON
    (entity,) = response.json()
    assert entity == {
        "@type": "currentStatus",
        "statementText": text,
        "commandId": "stream/TURNSTILE/create",
        "commandStatus": {"status": "SUCCESS", "message": "Stream created"},
        "commandSequenceNumber": 1,
        "warnings": [],
    }
    status = session.get(f"{BASE}/status/stream/TURNSTILE/create")
    assert status.status_code == 200
    assert status.json() == {"status": "SUCCESS", "message": "Stream created"}
    assert session.get(f"{BASE}/status/table/NOPE/create").status_code == 404


def test_error_carries_statement_and_entities_of_what_ran(session: requests.Session) -> None:
    ok = (
        "CREATE STREAM turnstile WITH (KAFKA_TOPIC='org.chicago.cta.turnstiles.v1', "
        "VALUE_FORMAT='AVRO');"
    )
    bad = "DROP TABLE nothing;"
    response = post(session, f"{ok}\n{bad}\nDROP STREAM turnstile;")
    assert response.status_code == 400
    body = response.json()
    assert body["@type"] == "statement_error"
    assert body["error_code"] == 40001
    assert body["statementText"] == bad
    assert "does not exist" in body["message"]
    assert [e["commandId"] for e in body["entities"]] == ["stream/TURNSTILE/create"]
    # The statement after the failing one did not run.
    assert post(session, "DROP STREAM turnstile;").status_code == 200


def test_existing_source_without_if_not_exists_is_40001(session: requests.Session) -> None:
    text = (
        "CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='org.chicago.cta.weather.v1', "
        "VALUE_FORMAT='JSON');"
    )
    assert post(session, text).status_code == 200
    again = post(session, text)
    assert again.status_code == 400
    assert again.json()["error_code"] == 40001
    assert "already exists" in again.json()["message"]


@pytest.mark.parametrize("query", ["SELECT * FROM turnstile EMIT CHANGES;", "PRINT 'x';"])
def test_select_and_print_belong_to_the_query_endpoint(
    session: requests.Session, query: str
) -> None:
    response = post(session, query)
    assert response.status_code == 400
    assert response.json()["error_code"] == 40002
    assert response.json()["statementText"] == query


def test_syntax_error_names_statement_and_position(session: requests.Session) -> None:
    response = post(session, "CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='t');\nCREATE STREM x;")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == 40001
    assert body["statementText"] == "CREATE STREM x;"
    assert body["message"].startswith("line 2:8:")


def test_bad_requests(session: requests.Session) -> None:
    wrong_type = session.post(f"{BASE}/ksql", data="{}", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    not_json = session.post(f"{BASE}/ksql", data="{", headers={"Content-Type": KSQL_JSON})
    assert not_json.status_code == 400 and not_json.json()["error_code"] == 40000
    no_ksql = session.post(f"{BASE}/ksql", data="{}", headers={"Content-Type": KSQL_JSON})
    assert no_ksql.status_code == 400 and no_ksql.json()["error_code"] == 40000
    assert session.get(f"{BASE}/nowhere").status_code == 404


def test_info_and_healthcheck(session: requests.Session, client: KsqlClient) -> None:
    assert client.info()["KsqlServerInfo"]["serverStatus"] == "RUNNING"
    health = session.get(f"{BASE}/healthcheck")
    assert health.status_code == 200 and health.json()["isHealthy"] is True


def test_client_raises_on_refused_statement(client: KsqlClient) -> None:
    with pytest.raises(KsqlClientError, match="does not exist") as caught:
        client.execute("DROP TABLE nothing;")
    assert caught.value.statement == "DROP TABLE nothing;"
    assert caught.value.error_code == 40001
