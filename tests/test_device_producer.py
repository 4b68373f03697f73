"""DeviceProducer.send_all writes exactly what send would, message for message."""

from __future__ import annotations

from cta import topics
from cta.bootstrap.memory import memory_backend
from cta.domain.events import LineColor, TurnstileEntry
from cta.producers import DeviceProducer
from cta.verify import read_all


def test_send_all_writes_the_same_messages_as_send_for_each() -> None:
    clark = TurnstileEntry(40380, "Clark/Lake", LineColor.BROWN, 1_700_000_000_000)
    howard = TurnstileEntry(40900, "Howard", LineColor.RED, 1_700_000_000_000)
    # Runs of one event object (a station's riders of one step), and an equal but new object.
    events = [clark, clark, clark, howard, howard, clark,
              TurnstileEntry(40380, "Clark/Lake", LineColor.BLUE, 1_700_000_300_000)]  # fmt: skip
    written = []
    for bulk in (False, True):
        backend = memory_backend()
        backend.admin.create_topics(topics.PIPELINE_TOPICS)
        producer = backend.log.producer("test")
        device = DeviceProducer.turnstiles(producer, backend.registry)
        if bulk:
            device.send_all(events)
        else:
            for event in events:
                device.send(event)
        producer.flush()
        assert device.sent == len(events)
        records = read_all(backend, topics.TURNSTILES)
        written.append(sorted((r.partition, r.offset, r.key, r.value) for r in records))
    assert written[0] == written[1]
    assert len(written[1]) == len(events)
