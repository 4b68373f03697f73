"""What changed between two board snapshots, and how to apply it: pure, for the ``/events`` fan-out.

``snapshot_delta(a, b)`` is the compact change from snapshot ``a`` to snapshot ``b`` (both of the
shape ``DashboardState.snapshot`` returns), and ``apply_delta(a, delta)`` rebuilds ``b`` from
``a``: ``apply_delta(a, snapshot_delta(a, b)) == b`` for any two snapshots. Neither mutates its
arguments. ``static/dashboard.js`` applies the same format in the browser.

A delta (absent keys mean "nothing of that kind changed")::

    {"version": b.version, "since": a.version,
     "set": {top-level key: new value},          # header, weather, month... changed or new
     "unset": [top-level key],                    # keys b no longer has
     "lines": {line id: line patch},              # only the lines that changed
     "line_order": [line id, ...]}                # only when the sequence of lines changed

    line patch:
    {"set": {field: new value}, "unset": [field],   # the line's own fields (colour, name...)
     "removed": [station_id, ...],                  # rows gone, applied first
     "rows": {"<station_id>": {field: new value}},  # a new row in full, else its changed fields
     "order": [station_id, ...]}                    # only when the sequence of rows changed

A moving train is two row patches (``{"a": null}`` where it left, ``{"a": {...}}`` where it
arrived); a count is ``{"entries": n}``. A row that lost a field (no snapshot does that today)
is sent as removed and added in full, so the format never needs a per-row "unset".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Snapshot = Mapping[str, Any]
Delta = dict[str, Any]

# Keys with their own treatment; every other top-level key is a value replaced whole.
_VERSION, _LINES = "version", "lines"
_STATIONS = "stations"


def _changed_fields(
    old: Mapping[str, Any], new: Mapping[str, Any], skip: frozenset[str]
) -> tuple[dict[str, Any], list[str]]:
    """The fields of ``new`` that ``old`` lacks or holds otherwise, and those ``new`` lacks."""
    changed = {k: v for k, v in new.items() if k not in skip and (k not in old or old[k] != v)}
    gone = [k for k in old if k not in skip and k not in new]
    return changed, gone


def _rows_by_id(stations: Sequence[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    return {int(row["station_id"]): row for row in stations}


def _line_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    changed, gone = _changed_fields(old, new, frozenset({_STATIONS}))
    if changed:
        patch["set"] = changed
    if gone:
        patch["unset"] = gone
    old_rows = _rows_by_id(old.get(_STATIONS, ()))
    new_rows = _rows_by_id(new.get(_STATIONS, ()))
    removed = [sid for sid in old_rows if sid not in new_rows]
    rows: dict[str, dict[str, Any]] = {}
    for sid, row in new_rows.items():
        before = old_rows.get(sid)
        if before is None:
            rows[str(sid)] = dict(row)
            continue
        fields, lost = _changed_fields(before, row, frozenset())
        if lost:  # re-sent whole: patches only ever add or replace fields
            removed.append(sid)
            rows[str(sid)] = dict(row)
        elif fields:
            rows[str(sid)] = fields
    if removed:
        patch["removed"] = removed
    if rows:
        patch["rows"] = rows
    if list(old_rows) != list(new_rows):
        patch["order"] = list(new_rows)
    return patch


def snapshot_delta(a: Snapshot, b: Snapshot) -> Delta:
    """The change from snapshot ``a`` to snapshot ``b``."""
    delta: Delta = {"version": b[_VERSION], "since": a[_VERSION]}
    changed, gone = _changed_fields(a, b, frozenset({_VERSION, _LINES}))
    if changed:
        delta["set"] = changed
    if gone:
        delta["unset"] = gone
    old_lines = {str(line["line"]): line for line in a.get(_LINES, ())}
    new_lines = {str(line["line"]): line for line in b.get(_LINES, ())}
    patches = {}
    for name, line in new_lines.items():
        patch = _line_patch(old_lines.get(name, {}), line)
        if patch:
            patches[name] = patch
    if patches:
        delta["lines"] = patches
    if list(old_lines) != list(new_lines):
        delta["line_order"] = list(new_lines)
    return delta


def _apply_line(old: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    line = {k: v for k, v in old.items() if k not in patch.get("unset", ())}
    line.update(patch.get("set", {}))
    rows = {int(row["station_id"]): row for row in old.get(_STATIONS, ())}
    # Without "order" the sequence is a's (a row re-sent whole keeps its place).
    ids = list(rows)
    for sid in patch.get("removed", ()):
        rows.pop(int(sid), None)
    for key, fields in patch.get("rows", {}).items():
        sid = int(key)
        before = rows.get(sid)
        rows[sid] = dict(fields) if before is None else {**before, **fields}
    order = patch.get("order")
    if order is not None:
        ids = [int(sid) for sid in order]
    line[_STATIONS] = [rows[sid] for sid in ids]
    return line


def apply_delta(a: Snapshot, delta: Mapping[str, Any]) -> dict[str, Any]:
    """Snapshot ``a`` with ``delta`` applied. ValueError when the delta is not based on ``a``."""
    if delta["since"] != a[_VERSION]:
        raise ValueError(
            f"delta from version {delta['since']} cannot apply to version {a[_VERSION]}"
        )
    result = {k: v for k, v in a.items() if k not in delta.get("unset", ())}
    result.update(delta.get("set", {}))
    result[_VERSION] = delta["version"]
    old_lines = {str(line["line"]): line for line in a.get(_LINES, ())}
    order = delta.get("line_order", list(old_lines))
    patches: Mapping[str, Any] = delta.get("lines", {})
    lines = []
    for name in order:
        line = old_lines.get(name, {})
        patch = patches.get(name)
        lines.append(dict(line) if patch is None else _apply_line(line, patch))
    result[_LINES] = lines
    return result
