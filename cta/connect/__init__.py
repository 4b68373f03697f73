"""Kafka Connect: the admin client, the stations connector config, the in-process emulation."""
