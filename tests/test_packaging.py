"""The package ships its data: a wheel built from this checkout holds every file of fixtures/,
sql/ and the native stack's templates, and, installed (not editable) into a fresh virtualenv,
``cta simulate`` and ``cta demo`` work from a directory outside the checkout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cta import resources
from cta.runtime import wait_for

CHECKOUT = Path(__file__).resolve().parents[1]
# Shipped folder in the checkout -> where the wheel has it.
SHIPPED_FOLDERS = {
    "fixtures": "cta/_data/fixtures",
    "sql": "cta/_data/sql",
    "cta/stack/templates": "cta/stack/templates",
}

pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(CHECKOUT)],
        check=True,
        cwd=out,
    )  # fmt: skip
    (built,) = out.glob("cta-*.whl")
    return built


def test_the_wheel_ships_every_file_of_the_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, shipped in SHIPPED_FOLDERS.items():
        expected = {
            f"{shipped}/{path.relative_to(CHECKOUT / folder).as_posix()}"
            for path in (CHECKOUT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert expected, f"{folder}/ is empty"
        assert expected <= names, sorted(expected - names)[:5]


def test_the_checkout_finds_its_data_through_the_package() -> None:
    assert resources.fixtures_dir() == CHECKOUT / "fixtures"
    assert resources.sql_dir() == CHECKOUT / "sql"
    assert resources.stack_templates_dir() == CHECKOUT / "cta" / "stack" / "templates"
    assert resources.project_dir() == CHECKOUT


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtualenv with the wheel installed; its dependencies come from this test's
    environment (a .pth line), so nothing is downloaded. Returns its ``cta`` script."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        check=True,
    )  # fmt: skip
    # After the install: pip would otherwise see this environment's (editable) cta through the
    # .pth line and install nothing.
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "dependencies.pth").write_text("\n".join(ours) + "\n")
    assert (env_dir / "bin" / "cta").exists(), "the wheel did not install its cta script"
    yield env_dir / "bin" / "cta"


def _outside_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTA_", "PYTHON"))}
    return {**env, "HOME": str(tmp_path)}


def test_installed_cta_imports_the_installed_package(installed: Path, tmp_path: Path) -> None:
    found = subprocess.run(
        [str(installed.with_name("python")), "-c", "import cta; print(cta.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=_outside_env(tmp_path),
    ).stdout  # fmt: skip
    assert not found.startswith(str(CHECKOUT)), found


def test_installed_cta_simulates_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed), "simulate", "--steps", "3"],
        capture_output=True, text=True, cwd=tmp_path, env=_outside_env(tmp_path), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "step 3:" in done.stdout, done.stdout


def test_installed_cta_demo_serves_the_board_outside_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    from cta.stack.config import free_ports

    (port,) = free_ports(1)
    demo = subprocess.Popen(
        [str(installed), "demo", "--port", str(port), "--speed", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=_outside_env(tmp_path),
    )  # fmt: skip
    try:

        def every_line_has_stations() -> bool:
            """The board answers and shows stations on every line (the stations reach it
            through the in-process connector and processor a moment after it serves)."""
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/status", timeout=2)
            except requests.ConnectionError:
                assert demo.poll() is None, demo.stderr.read() if demo.stderr else ""
                return False
            lines = answer.json()["lines"] if answer.ok else []
            return bool(lines) and all(line["stations"] for line in lines)

        wait_for(every_line_has_stations, timeout=180, interval=0.5, what="the demo's board")
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).ok
    finally:
        # Cleanup, not the check: a clean Ctrl-C is tested in tests/dashboard/test_serve.py
        # (a Ctrl-C in Sanic's first instants can be lost, so kill after a while).
        demo.send_signal(signal.SIGINT)
        try:
            demo.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.communicate()
