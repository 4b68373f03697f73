-- Entries per station, as the changelog topic TURNSTILE_SUMMARY that the dashboard reads.
--
-- Value (JSON): {"STATION_ID": 40380, "COUNT": 3, "FIRST_TIMESTAMP": 1795428300000}: the count
-- and the earliest event time it includes (epoch ms, simulated clock), so the board can say since
-- when it counts. TIMESTAMP is the producers' `timestamp` field, upper-cased by ksqlDB's schema
-- inference; back-quoted, since TIMESTAMP is also a type name.
-- GROUP BY makes the grouping column the message key, so it is aliased as the key column
-- STATION_KEY and copied into the value with AS_VALUE.
-- Key (KEY_FORMAT='JSON'): the station id as JSON text, e.g. b"40380".
-- Start from the earliest offset: send "ksql.streams.auto.offset.reset": "earliest" in
-- streamsProperties (cta.ksql.client does), or every entry produced before this ran is missed.
CREATE TABLE IF NOT EXISTS turnstile_summary
  WITH (KAFKA_TOPIC='TURNSTILE_SUMMARY', KEY_FORMAT='JSON', VALUE_FORMAT='JSON') AS
  SELECT
    station_id AS station_key,
    AS_VALUE(station_id) AS station_id,
    COUNT(*) AS count,
    MIN(`TIMESTAMP`) AS first_timestamp
  FROM turnstile
  GROUP BY station_id
  EMIT CHANGES;
