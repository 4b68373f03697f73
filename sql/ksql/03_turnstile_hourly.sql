-- The turnstile events again, now timed by the entry itself: TIMESTAMP names the value column
-- whose epoch-ms value becomes each row's ROWTIME, so windows follow event time (the simulated
-- clock), not when a message reached Kafka. A second declaration over the same topic, so the
-- un-windowed TURNSTILE stream (01) and the summary built on it stay as they are.
--
-- As in 01, no column list: the columns come from the producers' registered value schema;
-- STATION_ID INT, STATION_NAME STRING, LINE STRING, TIMESTAMP BIGINT. ksqlDB reads the TIMESTAMP
-- property as a column reference: unquoted it is upper-cased, so 'timestamp' names TIMESTAMP.
CREATE STREAM IF NOT EXISTS turnstile_by_event_time
  WITH (KAFKA_TOPIC='org.chicago.cta.turnstiles.v1', VALUE_FORMAT='AVRO', TIMESTAMP='timestamp');

-- Entries per station per hour of event time, as the changelog topic TURNSTILE_HOURLY.
--
-- Windows are one hour, aligned on the epoch (UTC; Chicago's offsets are whole hours, so each
-- window is also one local hour). An entry up to 30 minutes behind its partition's newest
-- (stream time) past its hour's end still counts; a later one is dropped. Windows are kept in
-- the query's state for 2 days of stream time (retention >= size + grace, as Kafka Streams asks).
--
-- Key (KEY_FORMAT='JSON', windowed): the station id as JSON text, then the window start as an
-- 8-byte big-endian long (Kafka Streams' time-windowed key): 2026-11-23 07:00 Chicago at Clark/Lake
-- is b"40380" + bytes.fromhex("000001a2087dec80").
-- Value (JSON): {"STATION_ID": 40380, "WINDOW_START": 1795438800000,
--                "WINDOW_END": 1795442400000, "COUNT": 12}
-- WINDOWSTART / WINDOWEND are the window's bounds (epoch ms), copied into the value.
CREATE TABLE IF NOT EXISTS turnstile_hourly
  WITH (KAFKA_TOPIC='TURNSTILE_HOURLY', KEY_FORMAT='JSON', VALUE_FORMAT='JSON') AS
  SELECT
    station_id AS station_key,
    AS_VALUE(station_id) AS station_id,
    WINDOWSTART AS window_start,
    WINDOWEND AS window_end,
    COUNT(*) AS count
  FROM turnstile_by_event_time
  WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 2 DAYS, GRACE PERIOD 30 MINUTES)
  GROUP BY station_id
  EMIT CHANGES;
