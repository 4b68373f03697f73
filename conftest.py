"""Root conftest: the ``--backend`` option that runs the same features on either backend, and
``--network`` that picks the features of one network (the whole 'L' or the seed's three lines)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("memory", "kafka"),
        default="memory",
        help="memory: the in-process emulation (default); kafka: the real stack from the "
        "CTA_* endpoints (or .stack/endpoints.env written by `cta stack up`)",
    )
    parser.addoption(
        "--network",
        choices=("all", "l", "seed"),
        default="all",
        help="features to run: l, the whole 'L' (features/whole_l.feature); seed, the original "
        "three lines (the other feature files); all (default): both, each on its own network",
    )
