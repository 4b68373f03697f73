"""The arrival contract evolves BACKWARD-compatibly under its subject (issue 8), on either backend
(``--backend memory``: the in-process registry; ``--backend kafka``: Apicurio).

Version 1 (tests/arrival_value_v1.avsc, the contract before the whole 'L') had no
``direction_name``; version 2 adds it as an optional field with a default. The registry accepts
version 2 over version 1, a consumer still holding version 1 decodes version-2 records, and a
version-2 consumer decodes version-1 records (``direction_name`` then defaults to null).
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import fastavro

from cta import schemas, topics
from cta.avro import AvroDecoder, AvroEncoder, parse_schema
from cta.backend import Backend
from cta.domain.events import Arrival, Direction, LineColor, TrainStatus
from cta.producers import DeviceProducer
from cta.topics import TopicSpec
from cta.verify import read_all

V1 = json.dumps(
    json.loads((Path(__file__).parent / "arrival_value_v1.avsc").read_text(encoding="utf-8")),
    separators=(",", ":"),
)

ARRIVAL = Arrival(
    station_id=40380,
    train_id="BR003",
    direction=Direction.A,
    line=LineColor.BROWN,
    train_status=TrainStatus.IN_SERVICE,
    prev_station_id=40260,
    prev_direction=Direction.A,
    timestamp_ms=1_700_000_000_000,
    direction_name="To Kimball",
)


def decode_as(reader_schema: str, backend: Backend, data: bytes) -> dict[str, object]:
    """What a consumer holding ``reader_schema`` reads: writer schema by id, then resolution."""
    writer_id = AvroDecoder(backend.registry).schema_id(data)
    writer = parse_schema(backend.registry.schema_by_id(writer_id))
    buffer = io.BytesIO(data[5:])
    record = fastavro.schemaless_reader(buffer, writer, parse_schema(reader_schema))
    assert isinstance(record, dict)
    return record


def test_v2_is_accepted_over_v1_and_old_readers_decode_new_records(backend: Backend) -> None:
    # A subject of its own: on a shared registry the arrivals subject may already hold version 2
    # (an earlier test produced arrivals), and registering version 1 over it makes v1 the latest.
    # The name does not match the dashboard's arrivals pattern, so no running board reads it.
    topic = f"cta.test.evolution-{uuid.uuid4().hex[:8]}"
    subject = topics.subject_for(topic, is_key=False)
    backend.admin.create_topics([TopicSpec(topic)])
    v1_id = backend.registry.register(subject, V1)
    assert backend.registry.is_compatible(subject, schemas.load(schemas.ARRIVAL_VALUE))

    producer = backend.log.producer("evolution-test")
    arrivals = DeviceProducer(
        producer,
        backend.registry,
        topic,
        key_schema=schemas.load(schemas.ARRIVAL_KEY),
        value_schema=schemas.load(schemas.ARRIVAL_VALUE),
    )
    arrivals.send(ARRIVAL)  # registers version 2 under the same subject
    old = AvroEncoder(backend.registry, subject, V1)
    producer.produce(topic, old.encode(ARRIVAL.as_value()), key=b"k")
    producer.flush()
    producer.close()

    latest = backend.registry.latest(subject)
    assert latest.schema_id != v1_id
    assert json.loads(latest.schema)["fields"][-1]["name"] == "direction_name"

    decoder = AvroDecoder(backend.registry)
    by_schema = {decoder.schema_id(r.value): r.value for r in read_all(backend, topic) if r.value}
    new_record, old_record = by_schema[latest.schema_id], by_schema[v1_id]
    as_v1 = decode_as(V1, backend, new_record)
    assert "direction_name" not in as_v1
    assert as_v1 == {k: v for k, v in ARRIVAL.as_value().items() if k != "direction_name"}
    as_v2 = decode_as(schemas.load(schemas.ARRIVAL_VALUE), backend, old_record)
    assert as_v2["direction_name"] is None
    assert as_v2["train_id"] == "BR003"
