from __future__ import annotations

from html.parser import HTMLParser

from cta.dashboard.page import render_page
from cta.dashboard.state import DashboardState


class _Text(HTMLParser):
    """Collects tags and text, to check what a browser would show."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def parse(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def populated() -> DashboardState:
    state = DashboardState()
    state.apply_station({"station_id": 1, "station_name": "<b>x</b>", "order": 0, "line": "red"})
    state.apply_station({"station_id": 2, "station_name": "Howard", "order": 1, "line": "red"})
    state.apply_arrival(
        {"station_id": 2, "train_id": "RL<i>7</i>", "direction": "b", "line": "red",
         "train_status": "broken_down", "prev_station_id": None, "prev_direction": None}
    )
    state.apply_summary(2, 4321)
    state.apply_weather({"temperature": 64.4, "status": "partly_cloudy"})
    return state


def test_names_are_escaped_and_shown_as_text() -> None:
    html = render_page(populated().snapshot())
    page = parse(html)
    assert "b" not in page.tags and "i" not in page.tags
    assert "<b>x</b>" in page.text
    assert "RL<i>7</i>" in page.text
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_page_shows_header_weather_trains_status_counts_and_empty_slots() -> None:
    page = parse(render_page(populated().snapshot()))
    assert "CTA Status" in page.text
    assert "64\u00b0F" in page.text and "Partly Cloudy" in page.text
    red = page.text.index("Red Line")
    assert page.text[red + 1] == "2 stations \u00b7 1 train"
    assert "broken down" in page.text
    assert "4,321" in page.text
    assert "\u2014" in page.text
    # Direction headers name the terminal each direction runs to.
    assert "To <b>x</b>" in page.text and "To Howard" in page.text


def test_empty_board_says_it_is_waiting() -> None:
    page = parse(render_page(DashboardState().snapshot()))
    assert "Waiting for weather" in page.text
    assert page.text.count("Waiting for stations\u2026") == 3


def test_line_sections_carry_their_colour() -> None:
    html = render_page(DashboardState().snapshot())
    for colour in ("#1E90FF", "#DC143C", "#32CD32"):
        assert f"--line-color: {colour}" in html
