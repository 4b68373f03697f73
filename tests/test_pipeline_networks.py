"""One backend, either network: the stations table holds the chosen network's stops only."""

from __future__ import annotations

from cta.bootstrap.memory import memory_backend
from cta.data_l import load_network, load_network_rows
from cta.pipeline import Pipeline


def test_setting_up_one_network_after_the_other_leaves_only_its_stops() -> None:
    backend = memory_backend()
    whole = Pipeline(backend, network=load_network("l"), station_rows=load_network_rows("l"))
    whole.setup()
    assert len(backend.stations_db.rows()) == 300
    seed_rows = load_network_rows("seed")
    seed = Pipeline(backend, network=load_network("seed"), station_rows=seed_rows)
    seed.setup()
    assert sorted(r.stop_id for r in backend.stations_db.rows()) == sorted(
        r.stop_id for r in seed_rows
    )
    # Stops of both networks now hold the seed's values, without the whole 'L' columns.
    assert backend.stations_db.rows() == sorted(seed_rows, key=lambda r: r.stop_id)
    assert all(r.latitude is None for r in backend.stations_db.rows())
