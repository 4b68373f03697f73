"""The running pipeline on one backend: set-up, processors, simulation and dashboard state.

``cta demo``, the features and the benchmark all build the pipeline here, so they exercise the
same wiring: topics, the station table load, the ``stations`` connector, the KSQL statement
files, the stations processor, and a dashboard feed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from cta import topics
from cta.backend import Backend
from cta.config import Settings
from cta.connect.config import CONNECTOR_NAME, stations_connector_config
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.layout import BoardLayout
from cta.dashboard.state import DashboardState
from cta.dashboard.station_detail import TypicalDay
from cta.data_l import load_network, load_network_rows
from cta.domain.lines import Network
from cta.domain.simulation import Simulation, TrainCounts
from cta.ksql.project import apply_project_statements
from cta.lag import group_topics_of, total_lag
from cta.ports import StationRow
from cta.runtime import BackgroundPump, Pump, drain
from cta.simulate import SimulationRunner

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(
        self,
        backend: Backend,
        *,
        network: Network | None = None,
        station_rows: Sequence[StationRow] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings or Settings.from_env()
        self.network = network or load_network(self.settings.network, self.settings.month or None)
        self.station_rows = (
            list(station_rows)
            if station_rows is not None
            else load_network_rows(self.network.name)
        )
        self._background: list[BackgroundPump] = []

    # -- set-up ---------------------------------------------------------------------------------

    def setup(self, *, connector_timeout: float = 120.0, start_processors: bool = True) -> None:
        """Create topics, load the stations table, apply the connector and the KSQL statements,
        then start out-of-process processors unless they run elsewhere (compose runs the Faust
        worker as a service of its own). Every part is idempotent."""
        backend = self.backend
        backend.admin.create_topics(topics.PIPELINE_TOPICS)
        backend.stations_db.create_schema()
        written = backend.stations_db.load(self.station_rows)
        # The table holds one network's stops: rows of the other (a database that ran the seed
        # before the whole 'L', or the reverse) are deleted, so Connect streams only these.
        wanted = {row.stop_id for row in self.station_rows}
        stale = [row.stop_id for row in backend.stations_db.rows() if row.stop_id not in wanted]
        for stop_id in stale:
            backend.stations_db.delete(stop_id)
        log.info("stations table: %d rows loaded, %d stale deleted", written, len(stale))
        backend.connect.apply(CONNECTOR_NAME, stations_connector_config(self.settings))
        backend.connect.wait_running(CONNECTOR_NAME, timeout=connector_timeout)
        apply_project_statements(backend.registry, backend.ksql)
        # Processors that run outside this process (the Faust worker on a real backend).
        if start_processors:
            backend.start_out_of_process()

    # -- processors -----------------------------------------------------------------------------

    def pumps(self) -> list[Pump]:
        """The in-process processors of this backend (connector tasks, stations processor,
        KSQL queries); a real backend runs some of them elsewhere and returns fewer."""
        return self.backend.pumps()

    def drain(self) -> int:
        """Run every in-process processor until none has anything left (tests, bench)."""
        return drain(self.pumps())

    def settle(self, *, timeout: float = 60.0, feeds: tuple[Pump, ...] = ()) -> None:
        """Wait until every processor has consumed what was produced: in-process pumps find
        nothing more and no consumer group lags, for as many rounds in a row as the backend's
        ``SettlePolicy`` asks. Lag is counted for every group, the out-of-process processors'
        and the in-process ones, over the topics it reads (``cta.lag``)."""
        poll = self.backend.settle.poll_timeout
        needed = self.backend.settle.quiet_rounds
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < needed:
            pumps = self.pumps()
            handled = sum(pump.pump(poll) for pump in [*pumps, *feeds])
            # Every group counts, the in-process ones too: a consumer still rejoining its group
            # finds nothing while its group has lag (cta.lag).
            behind = total_lag(
                self.backend.admin, {**self.backend.remote_groups, **group_topics_of(pumps)}
            )
            quiet = quiet + 1 if handled == 0 and not behind else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"pipeline did not settle in {timeout}s (lag {behind})")
            if handled == 0 and behind:
                time.sleep(0.05)  # a consumer is still busy or (re)joining its group

    def start_background(self, *extra: Pump) -> None:
        for pump in [*self.pumps(), *extra]:
            self._background.append(BackgroundPump(pump).start())

    def stop_background(self) -> None:
        for runner in self._background:
            runner.stop()
        self._background.clear()

    # -- simulation and dashboard ---------------------------------------------------------------

    def simulation(
        self,
        *,
        start: datetime,
        seed: int = 0,
        trains_per_line: TrainCounts = None,
        step: timedelta = timedelta(minutes=5),
    ) -> SimulationRunner:
        simulation = Simulation(
            self.network, seed=seed, trains_per_line=trains_per_line, step=step, start=start
        )
        return SimulationRunner(simulation, self.backend, step=step)

    def dashboard(
        self, state: DashboardState | None = None
    ) -> tuple[DashboardState, DashboardFeed]:
        state = state or DashboardState(
            self.board_layout(), typical=TypicalDay.from_network(self.network)
        )
        return state, DashboardFeed(self.backend.log, self.backend.registry, state)

    def board_layout(self) -> BoardLayout | None:
        """The whole 'L' board's layout; None for the seed network (the original board)."""
        if self.network.name == "seed":
            return None
        coordinates = {
            row.station_id: (row.latitude, row.longitude)
            for row in self.station_rows
            if row.latitude is not None and row.longitude is not None
        }
        return BoardLayout.from_network(self.network, coordinates)

