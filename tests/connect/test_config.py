import re

import pytest

from cta.config import Settings
from cta.connect.config import debezium_topic, stations_connector_config
from cta.topics import STATIONS_RAW


def test_debezium_config_from_settings() -> None:
    settings = Settings.from_env(
        {
            "CTA_DATABASE_URL": "postgresql://cta_admin:chi%40cago@db.local:6543/cta",
            "CTA_CONNECT_DATABASE_HOST": "postgres",
            "CTA_CONNECT_DATABASE_PORT": "5432",
        }
    )
    config = stations_connector_config(settings)
    assert all(isinstance(v, str) for v in config.values())
    assert config["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector"
    assert config["plugin.name"] == "pgoutput"
    assert (config["database.hostname"], config["database.port"]) == ("postgres", "5432")
    assert (config["database.user"], config["database.password"]) == ("cta_admin", "chi@cago")
    assert config["database.dbname"] == "cta"
    assert config["table.include.list"] == "public.stations"
    assert config["publication.autocreate.mode"] == "filtered"
    assert config["transforms.unwrap.delete.tombstone.handling.mode"] == "delete-to-tombstone"
    for side in ("key", "value"):
        assert config[f"{side}.converter"] == "org.apache.kafka.connect.json.JsonConverter"
        assert config[f"{side}.converter.schemas.enable"] == "false"


def test_regex_router_renames_debezium_topic_to_the_raw_stations_topic() -> None:
    config = stations_connector_config(Settings())
    source = debezium_topic(config["topic.prefix"])
    assert source == "cta.public.stations"
    # Java's and Python's regex agree on this escaped literal.
    assert re.fullmatch(config["transforms.route.regex"], source)
    assert config["transforms.route.replacement"] == STATIONS_RAW
    assert config["transforms"].split(",") == ["unwrap", "route"]


def test_dsn_without_user_is_refused() -> None:
    with pytest.raises(ValueError, match="must name a user"):
        stations_connector_config(Settings(database_url="postgresql:///cta"))
