"""Root conftest: the ``--backend`` option that runs the same features on either backend."""

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
