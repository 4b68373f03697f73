-- The turnstile events as a STREAM: every message is one rider entry, a fact to count, never an
-- update of an earlier one (a TABLE would keep only the latest entry per key and undercount).
--
-- No column list: ksqlDB infers the columns (STATION_ID, STATION_NAME, LINE, TIMESTAMP) from the
-- producers' registered value schema, subject org.chicago.cta.turnstiles.v1-value. A declared
-- column list would make ksqlDB register its own schema under that subject when the producers
-- have not registered theirs yet, which the producers' schema then fails to be compatible with.
-- The key (Avro {station_id}) is not declared: the count groups by the value's station_id.
-- ROWTIME stays the record timestamp: the count is not windowed, so event time changes nothing.
CREATE STREAM IF NOT EXISTS turnstile
  WITH (KAFKA_TOPIC='org.chicago.cta.turnstiles.v1', VALUE_FORMAT='AVRO');
