"""The ``cta`` command: demo, simulate, dashboard, setup and the native stack."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from types import FrameType

from cta import topics
from cta.bootstrap import open_backend
from cta.config import Settings
from cta.data_l import NETWORKS, NetworkChoiceError
from cta.domain.clock import CHICAGO
from cta.domain.events import LineColor
from cta.pipeline import Pipeline
from cta.simulate import Progress, SimulationRunner
from cta.verify import verify_topics

log = logging.getLogger("cta")


def _start_time(text: str | None, step: timedelta) -> datetime:
    """``YYYY-MM-DDTHH:MM`` in Chicago time; default: Chicago's current time, rounded down to a
    whole step, so the board starts with the riders and weather of the hour you are in."""
    if text:
        return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)
    now = datetime.now(CHICAGO)
    midnight = datetime.combine(now.date(), time(0), tzinfo=CHICAGO)
    return midnight + ((now - midnight) // step) * step


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=("memory", "kafka"),
        default=None,
        help="memory: everything in this process (default); kafka: the configured real stack",
    )


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--network",
        choices=NETWORKS,
        default=None,
        help="l: the whole 'L', eight lines (default; CTA_NETWORK); seed: the original three",
    )
    parser.add_argument(
        "--month",
        default=None,
        help="YYYY-MM whose day-type ridership drives the turnstiles (l only; default: the "
        "latest month in the data, 2024-04)",
    )


def train_counts_option(text: str) -> int | dict[LineColor, int]:
    """``12`` (every line) or ``red=12,brown=6`` (those lines; the others keep their default)."""
    if "=" not in text:
        return int(text)
    counts: dict[LineColor, int] = {}
    for part in text.split(","):
        name, _, count = part.partition("=")
        try:
            counts[LineColor(name.strip())] = int(count)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected LINE=COUNT, got {part!r}") from None
    return counts


def _simulation_options(parser: argparse.ArgumentParser, *, speed: float | None) -> None:
    _network_options(parser)
    parser.add_argument("--steps", type=int, default=None, help="steps to run (default: forever)")
    parser.add_argument(
        "--speed",
        type=float,
        default=speed,
        help="clock speed: 1 = real time, 60 = an hour a minute; 0 = as fast as possible",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--trains",
        type=train_counts_option,
        default=None,
        help="trains per line: N for every line, or LINE=N,... (default: seed 10 per line; "
        "l scaled with each line's length)",
    )
    parser.add_argument("--step-minutes", type=float, default=5.0)
    parser.add_argument("--start", default=None, help="simulated start, YYYY-MM-DDTHH:MM Chicago")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cta", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole pipeline and the dashboard in one process")
    _common(demo)
    _simulation_options(demo, speed=60.0)
    demo.add_argument("--host", default=None)
    demo.add_argument("--port", type=int, default=None)

    simulate = sub.add_parser("simulate", help="run the station devices against a backend")
    _common(simulate)
    _simulation_options(simulate, speed=None)

    dashboard = sub.add_parser("dashboard", help="serve the dashboard from the topics")
    _common(dashboard)
    dashboard.add_argument("--host", default=None)
    dashboard.add_argument("--port", type=int, default=None)
    _network_options(dashboard)

    setup = sub.add_parser("setup", help="topics, station table, connector, KSQL statements")
    _common(setup)
    _network_options(setup)

    processors = sub.add_parser(
        "processors", help="the kafka backend's Faust workers and KSQL engines, supervised"
    )
    _common(processors)
    processors.add_argument(
        "--instances",
        type=_positive,
        default=1,
        help="instances of each processor, sharing the partitions through their consumer "
        "groups (default 1)",
    )
    processors.add_argument(
        "--metrics-base-port",
        type=int,
        default=None,
        help="each instance serves /metrics on its own port from this one: the KSQL engines "
        "first, then the Faust workers (default: no /metrics)",
    )

    stack = sub.add_parser("stack", help="the native real stack (no Docker)")
    stack.add_argument("action", choices=("up", "down", "status"))
    stack.add_argument(
        "--brokers",
        type=int,
        default=None,
        help="Kafka nodes for `up` (1 or 3; default: as the last `up`, else 1)",
    )
    stack.add_argument(
        "--watch",
        action="store_true",
        help="status: rates and lag per processor group, refreshed until Ctrl-C",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """Environment first; for the kafka backend, the endpoints `cta stack up` wrote fill in
    whatever the environment leaves unset."""
    env = dict(os.environ)
    if getattr(args, "backend", None):
        env["CTA_BACKEND"] = args.backend
    if env.get("CTA_BACKEND") == "kafka":
        from cta.stack import StackConfig, StackEndpoints

        written = StackEndpoints.read(StackConfig.from_settings(Settings()).endpoints_file)
        if written is not None:
            env = {**written.as_env(), **env}
    settings = Settings.from_env(env)
    overrides: dict[str, object] = {}
    if getattr(args, "host", None):
        overrides["dashboard_host"] = args.host
    if getattr(args, "port", None):
        overrides["dashboard_port"] = args.port
    if getattr(args, "network", None):
        overrides["network"] = args.network
    if getattr(args, "month", None):
        overrides["month"] = args.month
    return dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _print_progress(progress: Progress) -> None:
    # One line, rewritten in place on a terminal; a log or pipe gets only the final line.
    if sys.stdout.isatty():
        print(f"\r{progress.line()}", end="", flush=True)


def _runner(pipeline: Pipeline, args: argparse.Namespace) -> SimulationRunner:
    step = timedelta(minutes=args.step_minutes)
    return pipeline.simulation(
        start=_start_time(args.start, step), seed=args.seed, trains_per_line=args.trains, step=step
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with open_backend(settings) as backend:
        backend.admin.create_topics(topics.PIPELINE_TOPICS)
        pipeline = Pipeline(backend, settings=settings)
        runner = _runner(pipeline, args)
        stop = threading.Event()
        _stop_on_signals(stop)
        try:
            progress = runner.run(
                args.steps, speed=args.speed or None, stop=stop, on_step=_print_progress
            )
        finally:
            runner.close()
        print(f"\r{progress.line()}" if sys.stdout.isatty() else progress.line())
        if backend.name == "memory":
            report = verify_topics(backend, (topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER))
            print(report.line())
            return 0 if report.ok else 1
        return 0


def cmd_setup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with open_backend(settings) as backend:
        # A one-shot step: the processors (the Faust worker) run as services of their own.
        Pipeline(backend, settings=settings).setup(start_processors=False)
    print("set up: topics, stations table, connector 'stations', KSQL statements")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cta.dashboard.app import serve

    settings = _settings(args)
    # Closing the backend stops the processors it started and leaves the KSQL queries' groups,
    # also when set-up fails or Ctrl-C comes before the dashboard runs.
    with open_backend(settings) as backend:
        pipeline = Pipeline(backend, settings=settings)
        supervisor = None
        if backend.name == "kafka":
            # The Faust worker and the KSQL engine run as supervised processes (cta.supervisor):
            # restarted when they die, and named by /healthz while they are down.
            from cta.kafka.processors import hand_over_ksql, supervise

            pipeline.setup(start_processors=False)
            hand_over_ksql(backend.ksql_engine)
            supervisor = supervise(settings)
            backend.closers.append(supervisor.stop)
        else:
            pipeline.setup()
        state, feed = pipeline.dashboard()
        runner = _runner(pipeline, args)
        stop = threading.Event()
        simulation = threading.Thread(
            target=runner.run,
            args=(args.steps,),
            kwargs={"speed": args.speed or None, "stop": stop},
            name="simulation",
            daemon=True,
        )
        health = None if supervisor is None else supervisor.health
        try:
            pipeline.start_background()
            simulation.start()
            url = f"http://{settings.dashboard_host}:{settings.dashboard_port}/"
            print(f"CTA status board ({backend.name} backend): {url}", flush=True)
            print("Ctrl-C stops the pipeline.", flush=True)
            serve(state, feed, settings.dashboard_host, settings.dashboard_port, processors=health)
        finally:
            stop.set()
            if simulation.is_alive():
                simulation.join(timeout=10)
            runner.close()
            pipeline.stop_background()
            feed.close()
    print("stopped.", flush=True)
    return 0


def cmd_processors(args: argparse.Namespace) -> int:
    """The real backend's processors alone, supervised, until Ctrl-C / SIGTERM: ``--instances``
    of each, every one a supervised child of its own (restarted alone when it dies)."""
    from cta.kafka.processors import default_workdir, supervise

    settings = _settings(args)
    if settings.backend != "kafka":
        print("cta processors runs the kafka backend's processors: use --backend kafka")
        return 2
    workdir = default_workdir()
    supervisor = supervise(
        settings, workdir, instances=args.instances, metrics_base_port=args.metrics_base_port
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    print(
        f"{args.instances} instance(s) of each processor supervised; logs in {workdir}. "
        "Ctrl-C stops them.",
        flush=True,
    )
    shown = None
    try:
        while not stop.wait(1.0):
            health = supervisor.health()
            line = ", ".join(f"{n}: {r['state']}" for n, r in health["processors"].items())
            if line != shown:
                print(line, flush=True)
                shown = line
    finally:
        supervisor.stop()
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from cta.dashboard.app import serve

    settings = _settings(args)
    with open_backend(settings) as backend:
        state, feed = Pipeline(backend, settings=settings).dashboard()
        print(f"CTA status board: http://{settings.dashboard_host}:{settings.dashboard_port}/")
        try:
            serve(state, feed, settings.dashboard_host, settings.dashboard_port)
        finally:
            feed.close()
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    from cta import stack

    return stack.main(args.action, brokers=args.brokers, watch=args.watch)


COMMANDS = {
    "demo": cmd_demo,
    "simulate": cmd_simulate,
    "setup": cmd_setup,
    "processors": cmd_processors,
    "dashboard": cmd_dashboard,
    "stack": cmd_stack,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # SIGTERM unwinds like Ctrl-C, so every command closes what it opened (the dashboard's
    # server handles both signals itself while it runs).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except NetworkChoiceError as exc:
        print(f"cta {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
