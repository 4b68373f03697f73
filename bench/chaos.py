"""Chaos run (by hand, long): exact counts through processor kills and a broker SIGKILL.

    .venv/bin/python bench/chaos.py [--seconds 600] [--rate 6000] [--seed 1]

Starts a private native stack (Kafka + the registry on free ports, a temporary state dir; the
shared stack is never touched), runs the Faust worker and the KSQL engine under the supervisor,
produces turnstile entries at ``--rate``/s, and kills the processors for ``--seconds`` as
Faust's stress killer does (SIGTERM at random intervals, then SIGKILL bursts 0.1-1 s apart),
with one SIGKILL + restart of the broker (``cta.chaos``). Then it checks the counts are exact
and prints the figures: kills survived, entries, the achieved rate, time to recover, and the
load average (the machine has two cores shared with other work). Exit status 1 when a check
fails. The short version runs in CI: tests/kafka/test_chaos.py.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from cta.chaos import ChaosRun
from cta.chaos_stack import chaos_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long the chaos lasts")
    parser.add_argument("--rate", type=float, default=6_000.0, help="turnstile entries/s")
    parser.add_argument("--seed", type=int, default=1, help="the kill schedule's seed")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="cta-chaos-processors-"))
    with chaos_stack() as stack:
        run = ChaosRun(
            stack.settings,
            workdir,
            kill_broker=stack.kill_broker,
            restart_broker=stack.restart_broker,
            rate=args.rate,
            seed=args.seed,
        )
        failure = ""
        try:
            run.start()
            run.chaos(args.seconds)
            run.finish()
            run.verify()
        except (AssertionError, TimeoutError) as exc:
            failure = str(exc) or type(exc).__name__
        finally:
            run.stop()
    f = run.figures
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (2 cores)")
    print(f"chaos {args.seconds:.0f}s; run {f.seconds:.0f}s; processor logs in {workdir}")
    print(f"kills survived: {f.sigterms} SIGTERM, {f.sigkills} SIGKILL, {f.broker_kills} broker")
    print(f"valid turnstile entries: {f.entries} ({f.rate:.0f}/s); bad records: {f.bad_records}")
    print(f"TURNSTILE_SUMMARY total: {f.summary_total}; stations in the table: {f.stations}")
    print(f"time to recover (chaos over -> healthy and caught up): {f.recover_seconds:.1f}s")
    if failure:
        print(f"FAILED: {failure}")
        print(run.log_tails(), file=sys.stderr)
        return 1
    print("exact: summary == entries, every station in the table, dead letters = bad records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
