"""Where the data files and the per-project folders are, in a checkout and in an installed wheel.

The top-level ``fixtures/`` and ``sql/`` folders are the source; ``cta/_data/`` links to them,
and the wheel ships everything under it as package data (``pyproject.toml``), so the same
``importlib.resources`` lookup finds them in an editable install and in ``pip install .``. The
native stack's templates are package data of ``cta.stack`` itself (``cta/stack/templates/``).

``project_dir()`` is where a native stack keeps its state (``.stack/``) and downloads
(``.cache/stack/``): the checkout ``cta`` is imported from, else the current directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_dir() -> Path:
    root = files("cta")
    if not isinstance(root, Path):  # imported from a zip: the data files need a real folder
        raise RuntimeError(f"cta must be installed as files on disk, not imported from {root}")
    return root


def resource_dir(name: str) -> Path:
    """A shipped data folder: ``fixtures`` or ``sql`` (in a checkout, the top-level
    folder itself, so messages name ``fixtures/stops.csv``)."""
    folder = (_package_dir() / "_data" / name).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"cta's data folder {name!r} is missing (looked in {folder})")
    return folder


def fixtures_dir() -> Path:
    return resource_dir("fixtures")


def sql_dir() -> Path:
    return resource_dir("sql")


def stack_templates_dir() -> Path:
    """The native stack's templates: server and worker properties, Maven poms, log4j2."""
    folder = (_package_dir() / "stack" / "templates").resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"the native stack's templates are missing (looked in {folder})")
    return folder


def project_dir() -> Path:
    """The checkout (a folder with ``pyproject.toml`` above the package), else the current
    directory."""
    checkout = _package_dir().parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
