"""In-process adapters: the Kafka broker, the schema registry and the station database."""
