"""The short chaos run (cta.chaos): processors SIGTERMed then SIGKILLed in bursts, the broker
SIGKILLed and restarted once, at ~6,000 turnstile events/s; then the summary counts every valid
entry exactly once, every station row is in the table, the dead letters hold only the bad
records. A private native stack on free ports (the shared one is left alone).

Needs CTA_STACK_TESTS=1 (it starts JVMs). The long run: ``python bench/chaos.py``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from cta.chaos import ChaosRun
from cta.chaos_stack import chaos_stack

needs_stack = pytest.mark.skipif(
    os.environ.get("CTA_STACK_TESTS") != "1", reason="set CTA_STACK_TESTS=1 to run"
)
log = logging.getLogger(__name__)

CHAOS_SECONDS = 60.0


@pytest.mark.kafka
@needs_stack
def test_counts_stay_exact_through_processor_kills_and_a_broker_kill(tmp_path: Path) -> None:
    with chaos_stack() as stack:
        run = ChaosRun(
            stack.settings,
            tmp_path / "processors",
            kill_broker=stack.kill_broker,
            restart_broker=stack.restart_broker,
        )
        try:
            run.start()
            run.chaos(CHAOS_SECONDS)
            run.finish()
            figures = run.verify()
        except BaseException:
            log.error("chaos run failed after %s\n%s", run.figures, run.log_tails())
            raise
        finally:
            run.stop()
    log.info("chaos: %s", figures)
    assert figures.sigterms > 0 and figures.sigkills > 0 and figures.broker_kills == 1
    assert figures.entries > 0 and figures.summary_total == figures.entries
