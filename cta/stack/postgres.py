"""PostgreSQL from Debian's packages, on a private data dir, ready for logical decoding."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from cta.stack.config import DB_NAME, DB_PASSWORD, DB_USER, StackConfig
from cta.stack.processes import StackError
from cta.stack.service import Service

NAME = "postgres"
# The server refuses to run as root; Debian's package creates this user.
SERVER_USER = "postgres"
SUPERUSER = "postgres"


def run_as() -> str | None:
    """The account to run the server as: ``postgres`` when we are root, else ourselves."""
    return SERVER_USER if os.geteuid() == 0 else None


def data_dir(config: StackConfig) -> Path:
    return config.data_dir / NAME


def socket_dir(config: StackConfig) -> Path:
    return config.run_dir / "pg-socket"


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(command: list[str], user: str | None) -> None:
    group = pwd.getpwnam(user).pw_gid if user else None
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        user=user,
        group=group,
        extra_groups=[] if user else None,
        cwd="/",
    )
    if result.returncode != 0:
        hint = f" (every folder above the data dir must be readable by {user!r})" if user else ""
        output = (result.stdout + result.stderr)[-3000:]
        raise StackError(f"{command[0]} failed{hint}:\n{output}")


def prepare(config: StackConfig) -> None:
    """``initdb`` once; password logins over TCP, trust only on our private socket."""
    initdb = config.postgres_bin / "initdb"
    if not initdb.exists():
        raise StackError(f"{initdb} not found: run scripts/install-system-deps")
    user = run_as()
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError as exc:
            raise StackError(f"user {user!r} missing: run scripts/install-system-deps") from exc
    sockets = socket_dir(config)
    sockets.mkdir(parents=True, exist_ok=True)
    _chown(sockets, user)
    target = data_dir(config)
    if (target / "PG_VERSION").exists():
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _chown(target, user)
    _run(
        [
            str(initdb),
            "-D",
            str(target),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        ],
        user,
    )


def command(config: StackConfig) -> list[str]:
    return [
        str(config.postgres_bin / "postgres"),
        "-D",
        str(data_dir(config)),
        "-p",
        str(config.postgres_port),
        "-k",
        str(socket_dir(config)),
        "-c",
        f"listen_addresses={config.host}",
        # Debezium reads changes through a logical replication slot.
        "-c",
        "wal_level=logical",
        "-c",
        "max_wal_senders=10",
        "-c",
        "max_replication_slots=10",
    ]


def _superuser(config: StackConfig) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=str(socket_dir(config)),
        port=config.postgres_port,
        user=SUPERUSER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def healthy(config: StackConfig) -> bool:
    with _superuser(config) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


def create_database(config: StackConfig) -> None:
    """The application role and database (idempotent), then prove the role can log in. The
    role may create databases: the adapter tests work in scratch databases of their own."""
    with _superuser(config) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DB_USER,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN REPLICATION CREATEDB PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(DB_USER), sql.Literal(DB_PASSWORD)
            )
        )
        if (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
            is None
        ):
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DB_NAME), sql.Identifier(DB_USER)
                )
            )
    with psycopg.connect(config.endpoints().database_url, connect_timeout=5) as conn:
        conn.execute("SELECT 1")


def service(config: StackConfig) -> Service:
    return Service(
        name=NAME,
        command=command(config),
        health=lambda: healthy(config),
        log_file=config.logs_dir / f"{NAME}.log",
        user=run_as(),
        # SIGTERM waits for every client to leave; SIGINT is the "fast" shutdown.
        stop_signal=signal.SIGINT,
        prepare=lambda: prepare(config),
        after_start=lambda: create_database(config),
        port=config.postgres_port,
    )
