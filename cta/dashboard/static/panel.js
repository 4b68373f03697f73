// The station panel: selecting a station on the map or in the table opens it with the lines that
// stop there, step-free access, the trains at or approaching it per direction, and today's
// entries per hour against the month's typical curve (GET /api/stations/<id>). It refreshes
// while the board's state moves. Every text is set with textContent, never parsed as markup.
(function () {
  "use strict";

  const panel = document.getElementById("station-panel");
  if (!panel) return;
  const board = (window.ctaBoard = window.ctaBoard || { state: null, listeners: [] });
  const SVG_NS = "http://www.w3.org/2000/svg";
  const REFRESH_MS = 2000; // at most one refetch this often while the state moves
  const CHART = { w: 480, h: 170, left: 34, bottom: 18, top: 8 };

  let openId = null;
  let asked = 0; // the latest request: an older answer arriving late is dropped
  let lastAsked = 0;
  let refresh = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function svgEl(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const name in attributes || {}) node.setAttribute(name, String(attributes[name]));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function number(n) {
    return Math.round(Number(n)).toLocaleString("en-US");
  }

  function lineInfo(name) {
    const lines = (board.state && board.state.lines) || [];
    const line = lines.find(function (l) { return l.line === name; });
    return { name: line && line.name ? line.name : name, color: line ? line.color : "#888888" };
  }

  function markSelected() {
    for (const node of document.querySelectorAll(".network-map .station.selected")) {
      node.classList.remove("selected");
    }
    if (openId === null) return;
    for (const marker of document.querySelectorAll(
      `.network-map .station[data-station="${openId}"]`
    )) marker.classList.add("selected");
  }

  function chart(hourly) {
    const entries = hourly.entries.map(Number);
    const typical = (hourly.typical || []).map(Number);
    const top = Math.max(1, ...entries, ...typical);
    const plotW = CHART.w - CHART.left;
    const plotH = CHART.h - CHART.bottom - CHART.top;
    const step = plotW / 24;
    const y = function (v) { return CHART.top + plotH - (v / top) * plotH; };
    const svg = svgEl("svg", { class: "hourly-chart", viewBox: `0 0 ${CHART.w} ${CHART.h}`,
                               role: "img" });
    const total = entries.reduce(function (a, b) { return a + b; }, 0);
    svg.dataset.total = String(total);
    svg.setAttribute("aria-label", `Entries per hour: ${number(total)} today`);
    for (const tick of [0, top / 2, top]) {
      svg.appendChild(svgEl("text", { x: CHART.left - 4, y: y(tick) + 3, "text-anchor": "end" },
                            number(tick)));
    }
    entries.forEach(function (value, hour) {
      const bar = svgEl("rect", { class: "bar", x: CHART.left + hour * step + 1, y: y(value),
                                  width: step - 2, height: Math.max(0, y(0) - y(value)) });
      bar.dataset.hour = String(hour);
      bar.dataset.value = String(value);
      const usual = typical.length === 24 ? `, typical ${number(typical[hour])}` : "";
      bar.appendChild(svgEl("title", {}, `${String(hour).padStart(2, "0")}:00 \u2014 ` +
                                         `${number(value)} entries${usual}`));
      svg.appendChild(bar);
    });
    if (typical.length === 24) {
      const points = typical.map(function (v, hour) {
        return `${(CHART.left + (hour + 0.5) * step).toFixed(1)},${y(v).toFixed(1)}`;
      });
      svg.appendChild(svgEl("polyline", { class: "typical", points: points.join(" ") }));
    }
    for (const hour of [0, 6, 12, 18, 23]) {
      svg.appendChild(svgEl("text", { x: CHART.left + (hour + 0.5) * step, y: CHART.h - 4,
                                      "text-anchor": "middle" }, String(hour).padStart(2, "0")));
    }
    return svg;
  }

  function trainItem(train) {
    const info = lineInfo(train.line);
    const where = train.at ? "at the station" : "approaching";
    const item = el("li", "", `${train.train_id} \u00b7 ${where} \u00b7 ${train.status}`);
    item.title = info.name + " Line";
    item.style.setProperty("--line-color", info.color);
    return item;
  }

  function render(detail) {
    panel.replaceChildren();
    panel.dataset.station = String(detail.station_id);
    const close = el("button", "panel-close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Close the station panel");
    close.addEventListener("click", closePanel);
    panel.appendChild(close);
    panel.appendChild(el("h2", "panel-name", detail.name));
    const lines = el("ul", "panel-lines");
    lines.setAttribute("aria-label", "Lines");
    for (const name of detail.lines) {
      const info = lineInfo(name);
      const item = el("li", "", info.name);
      item.dataset.line = name;
      item.style.setProperty("--line-color", info.color);
      lines.appendChild(item);
    }
    panel.appendChild(lines);
    const ada = detail.ada === true ? "Step-free access (ADA)"
      : detail.ada === false ? "No step-free access" : "Step-free access: unknown";
    panel.appendChild(el("p", "panel-ada", ada));
    // One row per direction: where trains head, then the trains at or approaching the station.
    panel.appendChild(el("h3", "", "Trains"));
    const rows = el("dl", "panel-trains");
    for (const direction of Object.keys(detail.trains || {})) {
      rows.appendChild(el("dt", "", direction));
      const cell = el("dd");
      const trains = detail.trains[direction];
      if (trains.length === 0) cell.appendChild(el("span", "panel-none", "\u2014"));
      const list = el("ul");
      for (const train of trains) list.appendChild(trainItem(train));
      if (trains.length > 0) cell.appendChild(list);
      rows.appendChild(cell);
    }
    panel.appendChild(rows);
    const hourly = detail.hourly;
    if (hourly && Array.isArray(hourly.entries)) {
      const day = [hourly.day, hourly.day_type ? hourly.day_type.replace(/_/g, " ") : ""]
        .filter(Boolean).join(", ");
      panel.appendChild(el("h3", "", "Entries per hour" + (day ? " \u00b7 " + day : "")));
      panel.appendChild(chart(hourly));
      const key = el("p", "chart-key");
      key.appendChild(el("span", "key-bar", "\u25a0 today"));
      key.appendChild(document.createTextNode("  "));
      key.appendChild(el("span", "key-typical", "\u2014 typical for the month and day type"));
      panel.appendChild(key);
    }
  }

  function renderError(stationId, message) {
    panel.replaceChildren();
    panel.dataset.station = String(stationId);
    const close = el("button", "panel-close", "\u00d7");
    close.type = "button";
    close.addEventListener("click", closePanel);
    panel.appendChild(close);
    panel.appendChild(el("p", "panel-error", message));
  }

  function load() {
    const stationId = openId;
    const mine = ++asked;
    lastAsked = performance.now();
    fetch("/api/stations/" + encodeURIComponent(stationId)).then(function (response) {
      if (!response.ok) throw new Error("the board answered " + response.status);
      return response.json();
    }).then(function (detail) {
      if (mine === asked && openId === stationId) render(detail);
    }).catch(function (error) {
      if (mine === asked && openId === stationId && panel.childElementCount === 0) {
        renderError(stationId, "Cannot load this station: " + error.message);
      }
    });
  }

  function openPanel(stationId) {
    if (openId !== stationId) panel.replaceChildren();
    openId = stationId;
    panel.hidden = false;
    markSelected();
    load();
  }

  function closePanel() {
    openId = null;
    panel.hidden = true;
    delete panel.dataset.station;
    markSelected();
  }

  document.addEventListener("cta:select-station", function (event) {
    openPanel(Number(event.detail.stationId));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && openId !== null) closePanel();
  });

  // The table: a station's name opens its panel (click, or Enter once focused).
  const table = document.getElementById("lines");
  function fromTable(event) {
    const cell = event.target.closest("td.station");
    const row = cell && cell.closest("tr[data-station]");
    if (row) openPanel(Number(row.dataset.station));
  }
  table.addEventListener("click", fromTable);
  table.addEventListener("keydown", function (event) {
    if (event.key === "Enter") fromTable(event);
  });
  function focusableNames() {
    for (const cell of table.querySelectorAll("td.station:not([tabindex])")) cell.tabIndex = 0;
  }
  focusableNames();

  board.listeners.push(function () {
    focusableNames(); // dashboard.js rebuilds the rows
    markSelected();
    if (openId === null || refresh !== null) return;
    const wait = Math.max(0, REFRESH_MS - (performance.now() - lastAsked));
    refresh = window.setTimeout(function () {
      refresh = null;
      if (openId !== null) load();
    }, wait);
  });
})();
