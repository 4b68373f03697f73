"""The status page, rendered on the server from a state snapshot.

The page is complete without JavaScript; ``static/dashboard.js`` then rebuilds the same markup
from each snapshot pushed on ``/events``. Every name is escaped here (and set with
``textContent`` there), so a station called ``<b>x</b>`` shows as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

EMPTY_SLOT = "\u2014"  # an em dash: no train in that direction


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def format_temperature(weather: Mapping[str, Any] | None) -> str:
    if weather is None:
        return "\u2013\u00b0"
    return f"{round(float(weather['temperature']))}\u00b0F"


def direction_labels(stations: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """Headers for the two directions: ``a`` runs towards the first station, ``b`` the last."""
    if not stations:
        return ("Direction A", "Direction B")
    return (f"To {stations[0]['name']}", f"To {stations[-1]['name']}")


def _status_class(status: str) -> str:
    return "status-" + "-".join(status.lower().split())


def _slot(slot: Mapping[str, Any] | None, direction: str) -> str:
    if slot is None:
        return f'<td class="slot dir-{direction} empty">{EMPTY_SLOT}</td>'
    status = str(slot["status"])
    return (
        f'<td class="slot dir-{direction} {_e(_status_class(status))}">'
        f'<span class="train-id">{_e(slot["train_id"])}</span>'
        f'<span class="train-status">{_e(status)}</span></td>'
    )


def _station_row(line: str, station: Mapping[str, Any]) -> str:
    return (
        f'<tr id="row-{_e(line)}-{_e(station["station_id"])}" '
        f'data-station="{_e(station["station_id"])}">'
        f'<td class="station">{_e(station["name"])}</td>'
        f"{_slot(station['a'], 'a')}{_slot(station['b'], 'b')}"
        f'<td class="entries">{int(station["entries"]):,}</td></tr>'
    )


def _trains_on(stations: Sequence[Mapping[str, Any]]) -> int:
    return sum((s["a"] is not None) + (s["b"] is not None) for s in stations)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _line_meta(stations: int, trains: int) -> str:
    return f"{_count(stations, 'station')} \u00b7 {_count(trains, 'train')}"


def _line_section(line: Mapping[str, Any]) -> str:
    name = str(line["line"])
    stations: Sequence[Mapping[str, Any]] = line["stations"]
    to_a, to_b = direction_labels(stations)
    if stations:
        body = "".join(_station_row(name, station) for station in stations)
    else:
        body = '<tr class="waiting"><td colspan="4">Waiting for stations\u2026</td></tr>'
    return (
        f'<section class="line" id="line-{_e(name)}" data-line="{_e(name)}" '
        f'style="--line-color: {_e(line["color"])}">'
        f'<header class="line-header"><h2>{_e(name.title())} Line</h2>'
        f'<span class="line-meta">{_line_meta(len(stations), _trains_on(stations))}</span>'
        "</header>"
        '<table><thead><tr><th class="station">Station</th>'
        f'<th class="slot dir-a">{_e(to_a)}</th><th class="slot dir-b">{_e(to_b)}</th>'
        '<th class="entries">Entries</th></tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


# --- the header (static/dashboard.js renderHeader() builds the same texts) ---------------------

LIVE_WITHIN_MS = 6000  # the demo steps every 5 s: quieter than this and the board says how long


def heard_words(heard_ago_ms: int | None) -> str:
    """When the board last heard from the pipeline, in words."""
    if heard_ago_ms is None:
        return "waiting for data"
    if heard_ago_ms < LIVE_WITHIN_MS:
        return "live"
    seconds = heard_ago_ms // 1000
    if seconds < 120:
        return f"{seconds} s ago"
    return f"{seconds // 60} min ago"


def day_words(clock: Mapping[str, Any]) -> str:
    """The ridership day type, with the holiday's name when it is one."""
    words = f"{clock['day_label']} ridership"
    return words if clock.get("holiday") is None else f"{words} \u00b7 {clock['holiday']}"


def render_header(snapshot: Mapping[str, Any]) -> str:
    """The top bar: weather, the simulated Chicago time and day type, since when the counts
    count, and when the board last heard from the pipeline."""
    weather = snapshot.get("weather")
    label = "Waiting for weather" if weather is None else str(weather["label"])
    header: Mapping[str, Any] = snapshot.get("header") or {}
    clock: Mapping[str, Any] | None = header.get("clock")
    since: Mapping[str, Any] | None = header.get("counts_since")
    if clock is None:
        sim_time, sim_zone, sim_date, day, day_type, iso = "--:--", "", "", "", "", ""
    else:
        sim_time, sim_zone, sim_date = clock["time"], clock["zone"], clock["date"]
        day, day_type, iso = day_words(clock), clock["day_type"], clock["iso"]
    since_text = "no entries counted yet" if since is None else since["label"]
    heard = heard_words(header.get("heard_ago_ms"))
    return f"""<header class="topbar">
  <h1>CTA Status</h1>
  <div class="weather" id="weather">
    <span class="temperature" id="temperature">{_e(format_temperature(weather))}</span>
    <span class="weather-label" id="weather-label">{_e(label)}</span>
  </div>
  <div class="sim-clock" id="sim-clock" data-day-type="{_e(day_type)}">
    <span class="sim-caption">Chicago</span>
    <time class="sim-time" id="sim-time" datetime="{_e(iso)}">{_e(sim_time)}</time>
    <span class="sim-zone" id="sim-zone">{_e(sim_zone)}</span>
    <span class="sim-date" id="sim-date">{_e(sim_date)}</span>
    <span class="day-type" id="day-type">{_e(day)}</span>
  </div>
  <div class="counts-since" id="counts-since">{_e(since_text)}</div>
  <div class="connection" id="connection" data-state="static" data-freshness="unknown">
    <span class="dot"></span><span class="connection-caption">pipeline</span>
    <span class="connection-label" id="connection-label">{_e(heard)}</span>
  </div>
</header>"""


# --- the whole 'L' (lines with a layout: see cta.dashboard.layout) -------------------------------


def _heading_slot(slot: Mapping[str, Any] | None, direction: str) -> str:
    """A train cell that also says where the train is heading ("To Kimball")."""
    if slot is None:
        return f'<td class="slot dir-{direction} empty">{EMPTY_SLOT}</td>'
    status = str(slot["status"])
    heading = str(slot.get("heading") or "")
    detail = f"{heading} \u00b7 {status}" if heading else status
    return (
        f'<td class="slot dir-{direction} {_e(_status_class(status))}">'
        f'<span class="train-id">{_e(slot["train_id"])}</span>'
        f'<span class="train-status">{_e(detail)}</span></td>'
    )


def _whole_l_row(line: str, station: Mapping[str, Any]) -> str:
    closed = bool(station.get("closed"))
    entries = "closed" if closed else f"{int(station['entries']):,}"
    row_class = ' class="closed"' if closed else ""
    return (
        f'<tr id="row-{_e(line)}-{_e(station["station_id"])}" '
        f'data-station="{_e(station["station_id"])}"{row_class}>'
        f'<td class="station">{_e(station["name"])}</td>'
        f"{_heading_slot(station['a'], 'a')}{_heading_slot(station['b'], 'b')}"
        f'<td class="entries">{_e(entries)}</td></tr>'
    )


def whole_l_rows(line: str, stations: Sequence[Mapping[str, Any]]) -> str:
    """Station rows in running order, a heading row where a new part of the line starts (the
    Loop, a branch) and where the trunk resumes."""
    rows: list[str] = []
    section = ""
    for station in stations:
        current = str(station.get("section") or "")
        if current != section:
            title = current or "Main line"
            rows.append(f'<tr class="section-row"><th colspan="4">{_e(title)}</th></tr>')
            section = current
        rows.append(_whole_l_row(line, station))
    return "".join(rows)


def _whole_l_section(line: Mapping[str, Any]) -> str:
    name = str(line["line"])
    stations: Sequence[Mapping[str, Any]] = line["stations"]
    directions: Mapping[str, str] = line["directions"]
    body = whole_l_rows(name, stations) or (
        '<tr class="waiting"><td colspan="4">Waiting for stations\u2026</td></tr>'
    )
    return (
        f'<section class="line whole-l" id="line-{_e(name)}" data-line="{_e(name)}" '
        f'style="--line-color: {_e(line["color"])}">'
        f'<header class="line-header"><h2>{_e(line.get("name") or name.title())} Line</h2>'
        f'<span class="line-meta">{_line_meta(len(stations), _trains_on(stations))}</span>'
        "</header>"
        '<table><thead><tr><th class="station">Station</th>'
        f'<th class="slot dir-a">{_e(directions["a"])}</th>'
        f'<th class="slot dir-b">{_e(directions["b"])}</th>'
        '<th class="entries">Entries</th></tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


def line_picker(snapshot: Mapping[str, Any]) -> str:
    """Links that show one line at a time (CSS ``:target``; no script needed), for boards with
    a layout; the seed board has none."""
    lines = [line for line in snapshot["lines"] if "directions" in line]
    if not lines:
        return ""
    links = "".join(
        f'<a class="pick" href="#line-{_e(line["line"])}" '
        f'style="--line-color: {_e(line["color"])}">{_e(line.get("name") or line["line"])}</a>'
        for line in lines
    )
    month = snapshot.get("month")
    ridership = f'<span class="ridership-month">Ridership of {_e(month)}</span>' if month else ""
    return (
        f'<nav class="line-picker" id="line-picker"><a class="pick all" href="#">All lines</a>'
        f"{links}{ridership}</nav>"
    )


def map_shell(snapshot: Mapping[str, Any]) -> str:
    """The map view, the view switch and the station panel, for boards with a layout: empty
    shells that static/map.js and static/panel.js fill (the table works without them)."""
    if not _has_layout(snapshot):
        return ""
    return (
        '<nav class="view-switch" id="view-switch" aria-label="View" hidden>'
        '<button type="button" data-view="map" aria-pressed="false">Map</button>'
        '<button type="button" data-view="table" aria-pressed="true">Table</button></nav>'
        '<section class="map-view" id="map-view" aria-label="Map of the whole \u2018L\u2019" '
        "hidden></section>"
        '<aside class="station-panel" id="station-panel" aria-live="polite" hidden></aside>'
    )


def _has_layout(snapshot: Mapping[str, Any]) -> bool:
    return any("directions" in line for line in snapshot["lines"])


def map_scripts(snapshot: Mapping[str, Any]) -> str:
    """The map's and the panel's scripts, after dashboard.js (which keeps the state they draw)."""
    if not _has_layout(snapshot):
        return ""
    return (
        '<script src="/static/map.js" defer></script>\n'
        '<script src="/static/panel.js" defer></script>\n'
    )


def _section(line: Mapping[str, Any]) -> str:
    return _whole_l_section(line) if "directions" in line else _line_section(line)


def render_page(snapshot: Mapping[str, Any]) -> str:
    """The whole HTML document for one snapshot."""
    lines = "".join(_section(line) for line in snapshot["lines"])
    map_css = '<link rel="stylesheet" href="/static/map.css">\n' if _has_layout(snapshot) else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CTA Status</title>
<link rel="stylesheet" href="/static/dashboard.css">
{map_css}</head>
<body data-version="{_e(snapshot.get("version", 0))}">
{render_header(snapshot)}
{map_shell(snapshot)}{line_picker(snapshot)}<main class="lines" id="lines">{lines}</main>
<footer class="footer">Trains, turnstile entries and weather stream live from Kafka.</footer>
<script src="/static/dashboard.js" defer></script>
{map_scripts(snapshot)}</body>
</html>
"""
