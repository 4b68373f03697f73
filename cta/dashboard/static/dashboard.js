// Live updates for the CTA status page. /events sends the whole board once ("snapshot"), then
// what changed ("delta", the format of cta/dashboard/delta.py); the page keeps the board as one
// object of the snapshot's shape in window.ctaBoard.state and, after every change, calls each
// function in window.ctaBoard.listeners with it (the map and the station panel follow it so).
// Names are set with textContent only, so station names can never inject markup.
(function () {
  "use strict";

  const EMPTY_SLOT = "\u2014";
  // line -> ("line/station/dir" -> train id) as last drawn, to flash fresh arrivals
  const drawnTrains = new Map();
  const board = window.ctaBoard || {};
  board.state = board.state || null;
  board.listeners = board.listeners || [];
  window.ctaBoard = board;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function title(word) {
    return word.charAt(0).toUpperCase() + word.slice(1);
  }

  function count(n, noun) {
    return n + " " + noun + (n === 1 ? "" : "s");
  }

  function statusClass(status) {
    return "status-" + status.toLowerCase().split(/\s+/).join("-");
  }

  function directionLabels(stations) {
    if (stations.length === 0) return ["Direction A", "Direction B"];
    return ["To " + stations[0].name, "To " + stations[stations.length - 1].name];
  }

  function slotCell(line, station, direction, nextTrains) {
    const slot = station[direction];
    const cell = el("td", "slot dir-" + direction);
    if (slot === null) {
      cell.classList.add("empty");
      cell.textContent = EMPTY_SLOT;
      return cell;
    }
    const key = line + "/" + station.station_id + "/" + direction;
    nextTrains.set(key, slot.train_id);
    cell.classList.add(statusClass(slot.status));
    const previousTrains = drawnTrains.get(line);
    if (previousTrains !== undefined && previousTrains.get(key) !== slot.train_id) {
      cell.classList.add("arrived");
    }
    cell.appendChild(el("span", "train-id", slot.train_id));
    cell.appendChild(el("span", "train-status", slot.status));
    return cell;
  }

  function stationRow(line, station, nextTrains) {
    const row = el("tr");
    row.id = "row-" + line + "-" + station.station_id;
    row.dataset.station = String(station.station_id);
    row.appendChild(el("td", "station", station.name));
    row.appendChild(slotCell(line, station, "a", nextTrains));
    row.appendChild(slotCell(line, station, "b", nextTrains));
    row.appendChild(el("td", "entries", Number(station.entries).toLocaleString("en-US")));
    return row;
  }

  function newSection(line) {
    const section = el("section", "line");
    section.id = "line-" + line.line;
    section.dataset.line = line.line;
    const header = el("header", "line-header");
    header.appendChild(el("h2", "", title(line.line) + " Line"));
    header.appendChild(el("span", "line-meta"));
    section.appendChild(header);
    const table = el("table");
    const headRow = el("tr");
    headRow.appendChild(el("th", "station", "Station"));
    headRow.appendChild(el("th", "slot dir-a"));
    headRow.appendChild(el("th", "slot dir-b"));
    headRow.appendChild(el("th", "entries", "Entries"));
    table.appendChild(el("thead")).appendChild(headRow);
    table.appendChild(el("tbody"));
    section.appendChild(table);
    document.getElementById("lines").appendChild(section);
    return section;
  }

  function renderLine(line, nextTrains) {
    const section = document.getElementById("line-" + line.line) || newSection(line);
    section.style.setProperty("--line-color", line.color);
    const stations = line.stations;
    const labels = directionLabels(stations);
    section.querySelector("th.dir-a").textContent = labels[0];
    section.querySelector("th.dir-b").textContent = labels[1];
    const tbody = el("tbody");
    if (stations.length === 0) {
      const row = el("tr", "waiting");
      const cell = el("td", "", "Waiting for stations\u2026");
      cell.colSpan = 4;
      row.appendChild(cell);
      tbody.appendChild(row);
    }
    let trains = 0;
    for (const station of stations) {
      tbody.appendChild(stationRow(line.line, station, nextTrains));
      trains += (station.a !== null) + (station.b !== null);
    }
    section.querySelector("tbody").replaceWith(tbody);
    section.querySelector(".line-meta").textContent =
      count(stations.length, "station") + " \u00b7 " + count(trains, "train");
  }

  // --- the whole 'L': lines with a layout (running order per pattern, sections, closed) ----

  function headingCell(line, station, direction, nextTrains) {
    const cell = slotCell(line, station, direction, nextTrains);
    const slot = station[direction];
    if (slot !== null && slot.heading) {
      cell.querySelector(".train-status").textContent = slot.heading + " \u00b7 " + slot.status;
    }
    return cell;
  }

  function wholeLineRow(line, station, nextTrains) {
    const row = el("tr");
    row.id = "row-" + line + "-" + station.station_id;
    row.dataset.station = String(station.station_id);
    if (station.closed) row.className = "closed";
    row.appendChild(el("td", "station", station.name));
    row.appendChild(headingCell(line, station, "a", nextTrains));
    row.appendChild(headingCell(line, station, "b", nextTrains));
    const entries = station.closed ? "closed" : Number(station.entries).toLocaleString("en-US");
    row.appendChild(el("td", "entries", entries));
    return row;
  }

  function sectionRow(title) {
    const row = el("tr", "section-row");
    const cell = el("th", "", title);
    cell.colSpan = 4;
    row.appendChild(cell);
    return row;
  }

  function renderWholeLine(line, nextTrains) {
    let section = document.getElementById("line-" + line.line);
    if (!section) {
      section = newSection(line);
      section.classList.add("whole-l");
    }
    section.style.setProperty("--line-color", line.color);
    section.querySelector("h2").textContent = (line.name || title(line.line)) + " Line";
    section.querySelector("th.dir-a").textContent = line.directions.a;
    section.querySelector("th.dir-b").textContent = line.directions.b;
    const tbody = el("tbody");
    let current = "";
    let trains = 0;
    for (const station of line.stations) {
      const part = station.section || "";
      if (part !== current) {
        tbody.appendChild(sectionRow(part || "Main line"));
        current = part;
      }
      tbody.appendChild(wholeLineRow(line.line, station, nextTrains));
      trains += (station.a !== null) + (station.b !== null);
    }
    section.querySelector("tbody").replaceWith(tbody);
    section.querySelector(".line-meta").textContent =
      count(line.stations.length, "station") + " \u00b7 " + count(trains, "train");
  }

  function renderWeather(weather) {
    document.getElementById("temperature").textContent =
      weather === null ? "\u2013\u00b0" : Math.round(weather.temperature) + "\u00b0F";
    document.getElementById("weather-label").textContent =
      weather === null ? "Waiting for weather" : weather.label;
  }

  // --- the header: simulated Chicago time and day type from the events, since when the counts
  // count, and when the board last heard from the pipeline (page.py renders the same texts).
  const LIVE_WITHIN_MS = 6000;
  let connectionState = "static";
  let heard = null; // {agoMs, at}: the server's "heard ago" and when this page received it

  function setText(id, text) {
    document.getElementById(id).textContent = text;
  }

  function heardWords(agoMs) {
    if (agoMs === null) return "waiting for data";
    if (agoMs < LIVE_WITHIN_MS) return "live";
    const seconds = Math.floor(agoMs / 1000);
    return seconds < 120 ? seconds + " s ago" : Math.floor(seconds / 60) + " min ago";
  }

  function renderConnection() {
    const box = document.getElementById("connection");
    box.dataset.state = connectionState;
    if (connectionState === "static") return; // no stream: the server's words stay
    if (connectionState === "reconnecting" || connectionState === "connecting") {
      box.dataset.freshness = "unknown";
      setText("connection-label", connectionState);
      return;
    }
    // The age grows here between snapshots: the server only pushes when the board changed.
    const agoMs = heard === null ? null : heard.agoMs + (performance.now() - heard.at);
    box.dataset.freshness =
      agoMs === null ? "unknown" : agoMs < LIVE_WITHIN_MS ? "fresh" : "stale";
    setText("connection-label", heardWords(agoMs));
  }

  function renderHeader(header) {
    const clock = header ? header.clock : null;
    const since = header ? header.counts_since : null;
    const simTime = document.getElementById("sim-time");
    simTime.textContent = clock ? clock.time : "--:--";
    simTime.dateTime = clock ? clock.iso : "";
    setText("sim-zone", clock ? clock.zone : "");
    setText("sim-date", clock ? clock.date : "");
    let day = "";
    if (clock) {
      day = clock.day_label + " ridership";
      if (clock.holiday !== null) day += " \u00b7 " + clock.holiday;
    }
    setText("day-type", day);
    document.getElementById("sim-clock").dataset.dayType = clock ? clock.day_type : "";
    setText("counts-since", since ? since.label : "no entries counted yet");
    const agoMs = header && typeof header.heard_ago_ms === "number" ? header.heard_ago_ms : null;
    heard = agoMs === null ? null : { agoMs: agoMs, at: performance.now() };
    renderConnection();
  }

  // --- deltas: the same rules as cta/dashboard/delta.py apply_delta ---------------------------

  function without(object, keys) {
    const copy = Object.assign({}, object);
    for (const key of keys || []) delete copy[key];
    return copy;
  }

  function applyLine(old, patch) {
    const line = Object.assign(without(old, patch.unset), patch.set || {});
    const rows = new Map();
    for (const row of old.stations || []) rows.set(row.station_id, row);
    let ids = Array.from(rows.keys()); // without "order" the sequence stays
    for (const id of patch.removed || []) rows.delete(Number(id));
    for (const [key, fields] of Object.entries(patch.rows || {})) {
      const id = Number(key);
      const before = rows.get(id);
      rows.set(id, before === undefined ? Object.assign({}, fields) : Object.assign({}, before, fields));
    }
    if (patch.order) ids = patch.order.map(Number);
    line.stations = ids.map(function (id) { return rows.get(id); });
    return line;
  }

  function applyDelta(state, delta) {
    const next = Object.assign(without(state, delta.unset), delta.set || {});
    next.version = delta.version;
    const old = new Map();
    for (const line of state.lines || []) old.set(String(line.line), line);
    const order = delta.line_order || Array.from(old.keys());
    const patches = delta.lines || {};
    next.lines = order.map(function (name) {
      const line = old.get(name) || {};
      return patches[name] ? applyLine(line, patches[name]) : line;
    });
    return next;
  }

  // changed: the ids of the lines to redraw (null: all of them)
  function render(state, changed) {
    renderWeather(state.weather);
    renderHeader(state.header);
    for (const line of state.lines) {
      if (changed !== null && !changed.has(String(line.line))) continue;
      const nextTrains = new Map();
      if (line.directions) renderWholeLine(line, nextTrains);
      else renderLine(line, nextTrains);
      drawnTrains.set(line.line, nextTrains);
    }
    document.body.dataset.version = String(state.version);
  }

  function show(state, changed) {
    board.state = state;
    render(state, changed);
    for (const listener of board.listeners) {
      try {
        listener(state);
      } catch (error) {
        console.error("board listener failed", error);
      }
    }
  }

  function setConnection(state) {
    connectionState = state;
    renderConnection();
  }

  let source = null;
  let lastEventId = ""; // the version this page holds, as the server named it

  // A new stream: after a resync (from nothing) or when the browser gave up on the old one (from
  // the last id: the server sends what is missing, or the whole board if it cannot).
  function open(resumeFrom) {
    if (source !== null) source.close();
    setConnection("connecting");
    const query = resumeFrom ? "?last_event_id=" + encodeURIComponent(resumeFrom) : "";
    const stream = new EventSource("/events" + query);
    source = stream;
    stream.onopen = function () {
      setConnection("live");
    };
    stream.onerror = function () {
      // EventSource retries by itself (the server asks for 2 s), sending Last-Event-ID; say so
      // meanwhile. Closed means it will not: open a new stream ourselves.
      setConnection("reconnecting");
      if (stream.readyState === EventSource.CLOSED) {
        window.setTimeout(function () {
          if (source === stream) open(lastEventId);
        }, 2000);
      }
    };
    stream.addEventListener("snapshot", function (event) {
      setConnection("live");
      try {
        show(JSON.parse(event.data), null);
        lastEventId = event.lastEventId;
      } catch (error) {
        console.error("cannot render snapshot", error);
      }
    });
    stream.addEventListener("delta", function (event) {
      setConnection("live");
      let delta;
      try {
        delta = JSON.parse(event.data);
      } catch (error) {
        console.error("cannot read delta", error);
        open("");
        return;
      }
      if (board.state === null || board.state.version !== delta.since) {
        open(""); // not based on what this page holds: start again from a snapshot
        return;
      }
      const changed = delta.line_order ? null : new Set(Object.keys(delta.lines || {}));
      try {
        show(applyDelta(board.state, delta), changed);
        lastEventId = event.lastEventId;
      } catch (error) {
        console.error("cannot render delta", error);
      }
    });
  }

  function connect() {
    if (!("EventSource" in window)) {
      setConnection("static");
      return;
    }
    window.setInterval(renderConnection, 1000);
    open("");
  }

  connect();
})();
