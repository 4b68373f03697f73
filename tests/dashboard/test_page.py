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


def test_header_shows_the_simulated_chicago_time_day_type_and_since_when_counts_count() -> None:
    state = populated()
    state.apply_weather({"temperature": 30.0, "status": "cloudy", "timestamp": 1_795_682_100_000})
    state.apply_summary(2, 4400, 1_795_428_300_000)  # Mon 23 Nov 2026 04:05 CST
    snapshot = state.snapshot()
    snapshot["header"]["heard_ago_ms"] = 3_400
    page = parse(render_page(snapshot))
    # 1_795_682_100_000 is Thanksgiving, Thu 26 Nov 2026 at 02:35 in Chicago.
    assert page.text[page.text.index("02:35") :][:3] == ["02:35", "CST", "Thu 26 Nov 2026"]
    assert "Sunday/holiday ridership \u00b7 Thanksgiving" in page.text
    assert "entries since Mon 23 Nov 2026 04:05" in page.text
    assert "live" in page.text


def test_header_before_any_event_and_when_the_pipeline_went_quiet() -> None:
    snapshot = DashboardState().snapshot()
    snapshot["header"]["heard_ago_ms"] = 12_300
    page = parse(render_page(snapshot))
    assert "--:--" in page.text and "Waiting for weather" in page.text
    assert "no entries counted yet" in page.text
    assert "12 s ago" in page.text
    snapshot["header"]["heard_ago_ms"] = None
    assert "waiting for data" in parse(render_page(snapshot)).text


def test_header_texts_are_escaped() -> None:
    snapshot = DashboardState().snapshot()
    snapshot["header"]["clock"] = {
        "timestamp": 0, "iso": '"><script>', "time": "<i>1</i>", "zone": "<b>Z</b>",
        "date": "d", "day_type": "weekday", "day_label": "<u>day</u>", "holiday": "<s>h</s>",
    }
    html = render_page(snapshot)
    page = parse(html)
    assert not {"i", "b", "u", "s"} & set(page.tags)
    assert page.tags.count("script") == 1  # the page's own, none from the attribute
    assert 'datetime="&quot;&gt;&lt;script&gt;"' in html
    assert "<i>1</i>" in page.text and "<u>day</u> ridership \u00b7 <s>h</s>" in page.text
