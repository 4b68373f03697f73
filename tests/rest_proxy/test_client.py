"""RestProxyClient against the documented REST Proxy v2 shapes (``responses``)."""

from __future__ import annotations

import json
import logging

import pytest
import requests
import responses

from cta.ports import ProduceOffset, ProduceResult
from cta.rest_proxy.client import RestProxyClient, RestProxyError

BASE = "http://proxy.test:8082"
URL = f"{BASE}/topics/weather"
KEY_SCHEMA = '{"type":"record","name":"K","fields":[{"name":"timestamp","type":"long"}]}'
VALUE_SCHEMA = '{"type":"record","name":"V","fields":[{"name":"status","type":"string"}]}'
RECORD = {"key": {"timestamp": 1}, "value": {"status": "sunny"}}
V2 = "application/vnd.kafka.v2+json"


def ok(*offsets: tuple[int | None, int | None, int | None]) -> dict[str, object]:
    return {
        "key_schema_id": 1,
        "value_schema_id": 2,
        "offsets": [
            {"partition": p, "offset": o, "error_code": e, "error": None if e is None else "boom"}
            for p, o, e in offsets
        ],
    }


def client(sleeps: list[float] | None = None) -> RestProxyClient:
    waits = sleeps if sleeps is not None else []
    return RestProxyClient(BASE + "/", attempts=3, backoff=0.1, sleep=waits.append)


def produce(c: RestProxyClient, records: list[dict[str, object]] | None = None) -> ProduceResult:
    return c.produce_avro(
        "weather", records or [RECORD], key_schema=KEY_SCHEMA, value_schema=VALUE_SCHEMA
    )


@responses.activate
def test_request_headers_and_body_shape_then_schema_ids() -> None:
    responses.post(URL, json=ok((0, 7, None)), content_type=V2)
    c = client()
    result = produce(c)
    produce(c)
    first, second = (call.request for call in responses.calls)
    assert first.headers["Content-Type"] == "application/vnd.kafka.avro.v2+json"
    assert first.headers["Accept"] == V2
    assert json.loads(first.body or b"") == {
        "key_schema": KEY_SCHEMA,
        "value_schema": VALUE_SCHEMA,
        "records": [RECORD],
    }
    assert json.loads(second.body or b"") == {
        "key_schema_id": 1,
        "value_schema_id": 2,
        "records": [RECORD],
    }
    assert result.key_schema_id == 1 and result.value_schema_id == 2
    assert result.offsets == (ProduceOffset(0, 7),)


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (404, {"error_code": 40401, "message": "Topic not found"}),
        (415, {"error_code": 415, "message": "HTTP 415 Unsupported Media Type"}),
        (422, {"error_code": 42202, "message": "records[0].value: bad"}),
        (409, {"error_code": 409, "message": "incompatible"}),
    ],
)
@responses.activate
def test_error_statuses_raise_without_retry(status: int, payload: dict[str, object]) -> None:
    responses.post(URL, json=payload, status=status)
    with pytest.raises(RestProxyError) as refused:
        produce(client())
    assert (refused.value.status, refused.value.error_code) == (status, payload["error_code"])
    assert refused.value.message == payload["message"]
    assert len(responses.calls) == 1


@responses.activate
def test_non_retriable_offset_error_raises() -> None:
    responses.post(URL, json=ok((None, None, 1)))
    with pytest.raises(RestProxyError) as refused:
        produce(client())
    assert (refused.value.status, refused.value.error_code, refused.value.message) == (
        200,
        1,
        "boom",
    )


@responses.activate
def test_503_is_retried_with_backoff_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    responses.post(URL, json={"error_code": 50301, "message": "busy"}, status=503)
    responses.post(URL, json={"error_code": 50301, "message": "busy"}, status=503)
    responses.post(URL, json=ok((0, 1, None)))
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="cta.rest_proxy.client"):
        result = produce(client(sleeps))
    assert result.offsets == (ProduceOffset(0, 1),)
    assert sleeps == [0.1, 0.2]
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2


@responses.activate
def test_gives_up_after_bounded_attempts() -> None:
    responses.post(URL, json={"error_code": 50001, "message": "down"}, status=500)
    with pytest.raises(RestProxyError) as failed:
        produce(client())
    assert (failed.value.status, failed.value.error_code) == (500, 50001)
    assert len(responses.calls) == 3


@responses.activate
def test_connection_errors_are_retried() -> None:
    responses.post(URL, body=requests.ConnectionError("refused"))
    responses.post(URL, json=ok((0, 3, None)))
    assert produce(client()).offsets == (ProduceOffset(0, 3),)


@responses.activate
def test_unreachable_proxy_reports_status_zero() -> None:
    responses.post(URL, body=requests.ConnectionError("refused"))
    with pytest.raises(RestProxyError) as failed:
        produce(client())
    assert failed.value.status == 0 and "refused" in failed.value.message


@responses.activate
def test_retriable_offsets_resend_only_the_failed_records() -> None:
    second = {"key": {"timestamp": 2}, "value": {"status": "windy"}}
    responses.post(URL, json=ok((0, 5, None), (None, None, 2)))
    responses.post(URL, json=ok((0, 6, None)))
    result = produce(client(), [RECORD, second])
    assert json.loads(responses.calls[1].request.body or b"")["records"] == [second]
    assert result.offsets == (ProduceOffset(0, 5), ProduceOffset(0, 6))


@responses.activate
def test_retriable_offsets_that_never_succeed_raise() -> None:
    responses.post(URL, json=ok((None, None, 2)))
    with pytest.raises(RestProxyError) as failed:
        produce(client())
    assert failed.value.error_code == 2
    assert len(responses.calls) == 3
