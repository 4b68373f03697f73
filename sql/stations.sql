-- The stations table (one row per platform stop), and what Debezium's pgoutput plugin needs.
-- Idempotent: run by PostgresStationDatabase.create_schema() (cta/kafka/stations_db.py) and safe
-- to run again. The server must run with wal_level=logical for the connector to stream it.

CREATE TABLE IF NOT EXISTS stations (
    stop_id INTEGER PRIMARY KEY,
    direction_id VARCHAR(1) NOT NULL,
    stop_name VARCHAR(70) NOT NULL,
    station_name VARCHAR(70) NOT NULL,
    station_descriptive_name VARCHAR(200) NOT NULL,
    station_id INTEGER NOT NULL,
    "order" INTEGER,
    red BOOLEAN NOT NULL,
    blue BOOLEAN NOT NULL,
    green BOOLEAN NOT NULL
);

-- Added for the whole 'L' (issue 8); ADD COLUMN IF NOT EXISTS also upgrades a table created
-- before them. Nullable or defaulted, so the seed's rows (which never had them) still load.
ALTER TABLE stations ADD COLUMN IF NOT EXISTS lines VARCHAR(60) NOT NULL DEFAULT '';
ALTER TABLE stations ADD COLUMN IF NOT EXISTS ada BOOLEAN;
ALTER TABLE stations ADD COLUMN IF NOT EXISTS latitude DOUBLE PRECISION;
ALTER TABLE stations ADD COLUMN IF NOT EXISTS longitude DOUBLE PRECISION;

-- Whole old rows in the WAL, so update and delete events carry the row before the change.
ALTER TABLE stations REPLICA IDENTITY FULL;

-- The connector's publication.name; with publication.autocreate.mode=filtered Debezium would
-- create it too, but only when its user owns the table: creating it here removes that need.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'cta_stations') THEN
        CREATE PUBLICATION cta_stations FOR TABLE stations;
    END IF;
END
$$;
