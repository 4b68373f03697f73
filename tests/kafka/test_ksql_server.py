"""The standalone KSQL server's command line (the server itself runs in the compose demo)."""

from __future__ import annotations

from cta.kafka.ksql_server import DEFAULT_PORT, build_parser


def test_it_listens_where_ksqldb_does_and_reads_its_peers_from_the_options() -> None:
    args = build_parser().parse_args(
        ["--host", "0.0.0.0", "--bootstrap-servers", "kafka:9092", "--schema-registry-url", "u"]
    )
    assert (args.host, args.port, DEFAULT_PORT) == ("0.0.0.0", 8088, 8088)
    assert (args.bootstrap_servers, args.schema_registry_url) == ("kafka:9092", "u")
