"""The REST Proxy served by Sanic (``python -m cta.rest_proxy --memory``): every failure is an
HTTP answer in the v2 error shape, never a dropped connection."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.rest_proxy.served import (
    QUICK_START_BODY,
    QUICK_START_HEADERS,
    ServedProxy,
    free_port,
)

MAX_BODY = 64 * 1024
MAX_RECORD = 16 * 1024
AVRO = "application/vnd.kafka.avro.v2+json"
STRING_VALUE = '{"type": "record", "name": "Blob", "fields": [{"name": "data", "type": "string"}]}'


@pytest.fixture(scope="module")
def proxy() -> Iterator[ServedProxy]:
    served = ServedProxy(
        ["--memory", "--max-body-bytes", str(MAX_BODY), "--max-record-bytes", str(MAX_RECORD)]
    )
    yield served
    served.stop()


def _status_and_body(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_confluent_quick_start_avro_produce_gets_its_documented_answer(proxy: ServedProxy) -> None:
    # avrotest does not exist: the proxy lets the (auto-creating) broker make it, as Confluent's.
    answer = requests.post(
        f"{proxy.url}/topics/avrotest", data=QUICK_START_BODY, headers=QUICK_START_HEADERS
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/vnd.kafka.v2+json"
    body = answer.json()
    # Documented: {"offsets":[{"partition":0,"offset":0,"error_code":null,"error":null}],
    # "key_schema_id":null,"value_schema_id":21} -- the id is whatever the registry assigns.
    assert body["offsets"] == [{"partition": 0, "offset": 0, "error_code": None, "error": None}]
    assert body["key_schema_id"] is None
    assert isinstance(body["value_schema_id"], int)


def test_a_body_over_the_limit_is_413_before_the_body_is_sent(proxy: ServedProxy) -> None:
    # Only the headers go out: the answer must come without the server waiting for the body.
    head = (
        "POST /topics/avrotest HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: {AVRO}\r\nContent-Length: {MAX_BODY * 100}\r\n\r\n"
    ).encode()
    status, body = _status_and_body(proxy.raw(head))
    assert (status, body["error_code"]) == (413, 413)
    assert str(MAX_BODY) in str(body["message"])


def test_a_body_just_over_the_limit_sent_whole_is_413(proxy: ServedProxy) -> None:
    data = json.dumps({"records": [{"value": "x" * MAX_BODY}]})
    answer = requests.post(
        f"{proxy.url}/topics/avrotest", data=data, headers={"Content-Type": AVRO}
    )
    assert (answer.status_code, answer.json()["error_code"]) == (413, 413)


def test_a_record_over_the_broker_limit_is_413_and_nothing_is_written(proxy: ServedProxy) -> None:
    def produce(*sizes: int) -> requests.Response:
        records = [{"value": {"data": "x" * size}} for size in sizes]
        body = json.dumps({"value_schema": STRING_VALUE, "records": records})
        return requests.post(f"{proxy.url}/topics/blobs", data=body, headers={"Content-Type": AVRO})

    refused = produce(10, MAX_RECORD + 1)
    assert (refused.status_code, refused.json()["error_code"]) == (413, 413)
    assert "records[1]" in refused.json()["message"]
    accepted = produce(10)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["offsets"][0]["offset"] == 0  # the refused request wrote nothing


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("DELETE", "/topics/avrotest", 405), ("PUT", "/topics", 404)],
)
def test_refusals_of_the_router_are_v2_errors(
    proxy: ServedProxy, method: str, path: str, status: int
) -> None:
    answer = requests.request(method, f"{proxy.url}{path}")
    assert answer.status_code == status
    assert answer.json()["error_code"] == status and answer.json()["message"]


def test_a_malformed_body_is_a_400_answer(proxy: ServedProxy) -> None:
    answer = requests.post(
        f"{proxy.url}/topics/avrotest", data=b"{", headers={"Content-Type": AVRO}
    )
    assert (answer.status_code, answer.json()["error_code"]) == (400, 400)


def test_a_broker_that_is_away_is_a_5xx_answer_in_bounded_time() -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    served = ServedProxy(["--bootstrap-servers", dead, "--schema-registry-url", f"http://{dead}"])
    try:
        answer = requests.post(
            f"{served.url}/topics/avrotest",
            data=QUICK_START_BODY,
            headers=QUICK_START_HEADERS,
            timeout=30,
        )
    finally:
        served.stop()
    assert (answer.status_code, answer.json()["error_code"]) == (500, 50003)
    assert "Kafka error" in answer.json()["message"]
