"""Confluent REST Proxy v2 subset: the handler over our ports, its requests client, a server."""
