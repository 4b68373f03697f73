"""Real adapters: confluent-kafka (event log, topic admin), an HTTP schema registry, PostgreSQL,
the Faust worker process, and resetting the real stack. Wired by ``cta.bootstrap.kafka``."""
