"""The image builder's pure parts: where debootstrap gets Debian, what the app image installs."""

from __future__ import annotations

from pathlib import Path

from cta.images import IMAGES, debian_mirror, runtime_requirements


def test_the_mirror_is_the_debian_archive_apt_uses_not_the_security_one(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    )
    assert debian_mirror([deb822]) == "http://mirror.example/debian"


def test_one_line_sources_are_read_too(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("deb [arch=amd64] http://other.example/debian bookworm main\n")
    assert debian_mirror([listing]) == "http://other.example/debian"


def test_without_a_debian_source_the_default_archive_is_used(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("deb https://deb.nodesource.com/node_20.x nodistro main\n")
    assert debian_mirror([listing]) == "http://deb.debian.org/debian"


def test_the_app_image_installs_the_runtime_dependencies_only() -> None:
    requirements = runtime_requirements()
    assert any(r.startswith("faust-streaming") for r in requirements)
    assert not any(r.startswith(("pytest", "ruff", "mypy")) for r in requirements)


def test_every_image_has_a_dockerfile_that_takes_its_base_as_an_argument() -> None:
    for image in IMAGES.values():
        text = image.dockerfile.read_text()
        assert "ARG BASE=" in text and "FROM ${BASE}" in text, image.name
