// The live map of the whole 'L': track, stations and trains drawn as SVG from /api/map (the
// geometry, fetched once) and the board's state (window.ctaBoard, kept by dashboard.js).
// Pan with a pointer drag, zoom with the wheel or the buttons; "Loop" zooms onto the Loop, and
// an inset shows the Loop enlarged at all times.
// Every name is set with textContent, never parsed as markup.
(function () {
  "use strict";

  const container = document.getElementById("map-view");
  const switcher = document.getElementById("view-switch");
  if (!container || !switcher) return; // the seed board: no map, the table alone
  const board = (window.ctaBoard = window.ctaBoard || { state: null, listeners: [] });

  const SVG_NS = "http://www.w3.org/2000/svg";
  const TRACK_GAP = 4; // screen px between lines sharing a track
  const LABELS_FROM = 3; // station and train labels show from this zoom (times the fitted one)
  const MAX_ZOOM = 80;
  const DRAG_FROM = 4; // px a pointer moves before a press becomes a drag

  let geometry = null;
  let lineRank = new Map();
  let main = null; // the map the user pans and zooms
  const views = []; // main, and the Loop inset beside it

  function svgEl(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const name in attributes || {}) node.setAttribute(name, String(attributes[name]));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function htmlEl(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // --- views: the map and the table are two views of one state ----------------------------

  function setView(name) {
    document.body.dataset.view = name;
    container.hidden = name !== "map";
    for (const button of switcher.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === name));
    }
    // Built while hidden, a map had no size to fit: it fits now (unless the user moved it).
    if (name === "map") for (const view of views) view.refit();
  }

  switcher.hidden = false;
  switcher.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-view]");
    if (button) setView(button.dataset.view);
  });
  // A link to one line of the table (#line-brown) opens the table; anything else, the map.
  setView(location.hash.startsWith("#line-") ? "table" : "map");
  window.addEventListener("hashchange", function () {
    if (location.hash.startsWith("#line-")) setView("table");
  });

  function select(stationId) {
    document.dispatchEvent(new CustomEvent("cta:select-station", { detail: { stationId } }));
  }

  // A line on a shared track is drawn beside the others: the segment's points moved ``offset``
  // along the track's normal (mitred at bends).
  function offsetPoints(flat, offset) {
    let points = [];
    for (let i = 0; i < flat.length; i += 2) points.push([flat[i], flat[i + 1]]);
    // One orientation rule for every segment (mostly eastward, else southward), so a line keeps
    // its side from one segment to the next.
    const dx = points[points.length - 1][0] - points[0][0];
    const dy = points[points.length - 1][1] - points[0][1];
    if (Math.abs(dx) >= Math.abs(dy) ? dx < 0 : dy < 0) points = points.reverse();
    if (offset === 0) return points;
    const normals = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const ex = points[i + 1][0] - points[i][0];
      const ey = points[i + 1][1] - points[i][1];
      const length = Math.hypot(ex, ey) || 1;
      normals.push([-ey / length, ex / length]);
    }
    return points.map(function (point, i) {
      const before = normals[Math.max(0, i - 1)];
      const after = normals[Math.min(normals.length - 1, i)];
      let nx = before[0] + after[0];
      let ny = before[1] + after[1];
      const length = Math.hypot(nx, ny) || 1;
      nx /= length;
      ny /= length;
      const miter = offset / Math.max(0.5, nx * after[0] + ny * after[1]);
      return [point[0] + nx * miter, point[1] + ny * miter];
    });
  }

  // --- one map: the main one (pan and zoom) or the Loop inset (fixed on the Loop) ----------

  // options: host (element), interactive, className, label, box (the inset's fixed view).
  function MapView(options) {
    let svg, viewport, trackLayer, stationLayer, trainLayer;
    const view = { x: 0, y: 0, k: 1 }; // screen = map * k + (x, y)
    let fitted = 1; // k of the whole network fitted to the view
    let touched = false; // the user moved the map: a resize keeps their view
    let pendingTrack = false;
    const linePaths = new Map(); // line -> path
    const stationNodes = new Map(); // station id -> {group, title, label, name, at}
    const trainNodes = new Map(); // train id -> {group, body, title, label, key, placed}

    // --- pan and zoom -------------------------------------------------------------------------

    function size() {
      const box = svg.getBoundingClientRect();
      return { w: box.width || 800, h: box.height || 600 };
    }

    function apply() {
      viewport.setAttribute("transform", `translate(${view.x} ${view.y}) scale(${view.k})`);
      // Markers and text keep their screen size: their CSS scales by 1/k.
      svg.style.setProperty("--inv", String(1 / view.k));
      const near = view.k >= fitted * LABELS_FROM;
      svg.classList.toggle("labels", Boolean(options.box) || near);
      // Zoomed in, the map itself is readable: the Loop inset would only hide part of it.
      if (options.interactive) container.classList.toggle("zoomed-in", near);
      svg.dataset.zoom = (view.k / fitted).toFixed(2);
      if (!pendingTrack) {
        pendingTrack = true;
        window.requestAnimationFrame(function () {
          pendingTrack = false;
          drawTrack();
        });
      }
    }

    function show(box) {
      const { w, h } = size();
      view.k = Math.min(w / box.width, h / box.height);
      view.x = w / 2 - (box.x + box.width / 2) * view.k;
      view.y = h / 2 - (box.y + box.height / 2) * view.k;
      apply();
    }

    function fit() {
      show({ x: 0, y: 0, width: geometry.width, height: geometry.height });
      fitted = view.k;
      if (options.box) show(options.box); // the inset: always its box, labels on
      apply();
    }

    function zoomAt(px, py, factor) {
      const k = Math.min(fitted * MAX_ZOOM, Math.max(fitted * 0.5, view.k * factor));
      view.x = px - (px - view.x) * (k / view.k);
      view.y = py - (py - view.y) * (k / view.k);
      view.k = k;
      touched = true;
      apply();
    }

    function zoomCentre(factor) {
      const { w, h } = size();
      zoomAt(w / 2, h / 2, factor);
    }

    function enablePanZoom() {
      // One pointer drags; two pinch (zoom about their midpoint). A press that barely moves
      // stays a click, so a station can still be selected.
      const pointers = new Map(); // pointer id -> {x, y}
      let drag = null;
      let pinch = null;
      function local(x, y) {
        const box = svg.getBoundingClientRect();
        return [x - box.left, y - box.top];
      }
      function startPinch() {
        const [a, b] = [...pointers.values()];
        pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1 };
      }
      svg.addEventListener("pointerdown", function (event) {
        if (event.pointerType === "mouse" && event.button !== 0) return;
        pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (pointers.size === 2) {
          drag = null;
          startPinch();
        } else if (pointers.size === 1) {
          drag = { id: event.pointerId, x: event.clientX, y: event.clientY, vx: view.x,
                   vy: view.y, moving: false };
        }
      });
      svg.addEventListener("pointermove", function (event) {
        if (!pointers.has(event.pointerId)) return;
        pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (pinch && pointers.size === 2) {
          const [a, b] = [...pointers.values()];
          const distance = Math.hypot(a.x - b.x, a.y - b.y) || 1;
          const [mx, my] = local((a.x + b.x) / 2, (a.y + b.y) / 2);
          zoomAt(mx, my, distance / pinch.distance);
          pinch.distance = distance;
          return;
        }
        if (!drag || drag.id !== event.pointerId) return;
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        if (!drag.moving && Math.hypot(dx, dy) < DRAG_FROM) return;
        if (!drag.moving) {
          drag.moving = true;
          svg.setPointerCapture(event.pointerId); // only now: a plain click still selects
          svg.classList.add("dragging");
        }
        view.x = drag.vx + dx;
        view.y = drag.vy + dy;
        touched = true;
        apply();
      });
      function release(event) {
        if (!pointers.delete(event.pointerId)) return;
        if (pointers.size < 2) pinch = null;
        if (drag && drag.id === event.pointerId) {
          if (drag.moving) {
            svg.classList.remove("dragging");
            // The click that ends a drag is not a selection.
            svg.addEventListener("click", function swallow(e) { e.stopPropagation(); },
                                 { capture: true, once: true });
          }
          drag = null;
        }
      }
      svg.addEventListener("pointerup", release);
      svg.addEventListener("pointercancel", release);
      svg.addEventListener("wheel", function (event) {
        event.preventDefault();
        const [x, y] = local(event.clientX, event.clientY);
        zoomAt(x, y, Math.exp(-event.deltaY * 0.002));
      }, { passive: false });
      svg.addEventListener("dblclick", function (event) {
        const [x, y] = local(event.clientX, event.clientY);
        zoomAt(x, y, event.shiftKey ? 1 / 2 : 2);
      });
      // From the keyboard: + and - zoom, the arrows pan (the map itself takes the focus).
      svg.addEventListener("keydown", function (event) {
        const pan = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
        if (event.key === "+" || event.key === "=") zoomCentre(1.6);
        else if (event.key === "-") zoomCentre(1 / 1.6);
        else if (pan[event.key]) {
          view.x += pan[event.key][0] * 80;
          view.y += pan[event.key][1] * 80;
          touched = true;
          apply();
        } else return;
        event.preventDefault();
      });
    }

    // --- track: each line along its segments, side by side where lines share a track ---------

    function drawTrack() {
      const gap = TRACK_GAP / view.k;
      const parts = new Map();
      for (const segment of geometry.segments) {
        const lines = segment.lines.slice().sort(function (a, b) {
          return lineRank.get(a) - lineRank.get(b);
        });
        lines.forEach(function (line, i) {
          const points = offsetPoints(segment.points, (i - (lines.length - 1) / 2) * gap);
          const d = "M" + points.map(function (p) {
            return p[0].toFixed(2) + " " + p[1].toFixed(2);
          }).join("L");
          if (!parts.has(line)) parts.set(line, []);
          parts.get(line).push(d);
        });
      }
      for (const [line, path] of linePaths) {
        path.setAttribute("d", (parts.get(line) || []).join(""));
      }
    }

    // --- stations and trains from the live state ---------------------------------------------

    function build() {
      svg = svgEl("svg", { class: "network-map " + options.className, role: "group",
                           "aria-label": options.label });
      if (options.interactive) svg.setAttribute("tabindex", "0");
      viewport = svgEl("g", { class: "viewport" });
      trackLayer = svgEl("g", { class: "track-layer" });
      stationLayer = svgEl("g", { class: "station-layer" });
      trainLayer = svgEl("g", { class: "train-layer" });
      for (const line of geometry.lines) {
        const path = svgEl("path", { class: "track", "data-line": line.line, stroke: line.color });
        path.appendChild(svgEl("title", {}, line.name + " Line"));
        linePaths.set(line.line, path);
        trackLayer.appendChild(path);
      }
      for (const station of geometry.stations) {
        const group = svgEl("g", {
          class: "station" + (station.lines.length > 1 ? " interchange" : ""),
          "data-station": station.station_id,
          transform: `translate(${station.x} ${station.y})`,
          role: "button",
        });
        const title = svgEl("title");
        const label = svgEl("text", { class: "station-label" });
        group.appendChild(title);
        group.appendChild(svgEl("circle", { class: "station-dot", r: 4 }));
        group.appendChild(label);
        if (options.interactive) group.setAttribute("tabindex", "0");
        group.addEventListener("click", function () { select(station.station_id); });
        group.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            select(station.station_id);
          }
        });
        stationNodes.set(station.station_id, { group, title, label, name: null, at: station });
        stationLayer.appendChild(group);
      }
      viewport.appendChild(trackLayer);
      viewport.appendChild(stationLayer);
      viewport.appendChild(trainLayer);
      svg.appendChild(viewport);
      options.host.appendChild(svg);
      if (options.interactive) enablePanZoom();
      fit();
    }

    function nameStations(state) {
      const names = new Map();
      for (const line of state.lines) {
        for (const station of line.stations) names.set(station.station_id, station.name);
      }
      for (const [id, node] of stationNodes) {
        const name = names.has(id) ? names.get(id) : "Station " + id;
        if (node.name === name) continue;
        node.name = name;
        node.title.textContent = name;
        node.label.textContent = name;
        node.group.setAttribute("aria-label", name);
      }
      return names;
    }

    function trainsOf(state) {
      const trains = [];
      for (const line of state.lines) {
        const rank = lineRank.has(line.line) ? lineRank.get(line.line) : 0;
        for (const station of line.stations) {
          for (const direction of ["a", "b"]) {
            const slot = station[direction];
            if (slot === null || slot === undefined) continue;
            const heading = slot.heading || (line.directions ? line.directions[direction] : "");
            trains.push({ id: slot.train_id, line: line.line, lineName: line.name || line.line,
                          color: line.color, rank: rank, station: station.station_id,
                          stationName: station.name, direction: direction, heading: heading,
                          status: slot.status });
          }
        }
      }
      return trains;
    }

    function newTrain(train) {
      const group = svgEl("g", { class: "train", "data-train": train.id });
      const body = svgEl("g", { class: "train-body" });
      const title = svgEl("title");
      const label = svgEl("text", { class: "train-label" });
      body.appendChild(svgEl("circle", { class: "train-dot", r: 5 }));
      body.appendChild(svgEl("path", { class: "train-arrow" }));
      body.appendChild(label);
      group.appendChild(title);
      group.appendChild(body);
      group.addEventListener("click", function () { select(Number(group.dataset.station)); });
      trainLayer.appendChild(group);
      return { group, body, title, label, key: "", placed: false };
    }

    function placeTrains(state) {
      const seen = new Set();
      for (const train of trainsOf(state)) {
        const station = stationNodes.get(train.station);
        if (!station) continue;
        seen.add(train.id);
        let node = trainNodes.get(train.id);
        if (!node) {
          node = newTrain(train);
          trainNodes.set(train.id, node);
        }
        const key = [train.line, train.station, train.direction, train.heading, train.status,
                     train.stationName].join("|");
        if (node.key === key) continue;
        node.key = key;
        const group = node.group;
        group.dataset.station = String(train.station);
        group.dataset.line = train.line;
        group.dataset.direction = train.direction;
        group.dataset.status = train.status;
        group.style.setProperty("--line-color", train.color);
        // Both directions of a station side by side, and at a station of several lines each
        // line a row: a train is offset (screen px, in the body) by direction and line.
        const lines = station.at.lines;
        const row = Math.max(0, lines.indexOf(train.line)) - (lines.length - 1) / 2;
        group.style.setProperty("--dx", train.direction === "a" ? "-1" : "1");
        group.style.setProperty("--dy", String(row));
        group.style.transform = `translate(${station.at.x}px, ${station.at.y}px)`;
        node.body.querySelector(".train-arrow").setAttribute(
          "d", train.direction === "a" ? "M-2.5 -1.5L-5 0L-2.5 1.5" : "M2.5 -1.5L5 0L2.5 1.5"
        );
        const towards = String(train.heading || "").replace(/^To /, "");
        node.label.textContent = train.id + (towards ? " \u2192 " + towards : "");
        node.title.textContent = `${train.lineName} Line run ${train.id} \u00b7 ${train.heading}` +
          ` \u00b7 ${train.status} \u00b7 at ${train.stationName}`;
        if (!node.placed) {
          node.placed = true;
          // Appear in place; from then on a move glides from the old station to the new.
          window.requestAnimationFrame(function () { group.classList.add("moving"); });
        }
      }
      for (const [id, node] of trainNodes) {
        if (!seen.has(id)) {
          node.group.remove();
          trainNodes.delete(id);
        }
      }
      svg.dataset.trains = String(trainNodes.size);
    }

    function refit() {
      if (!touched && !container.hidden) fit();
    }

    function render(state) {
      if (!geometry || !state) return;
      nameStations(state);
      placeTrains(state);
      svg.dataset.version = String(state.version);
    }

    build();
    return {
      svg, render, refit, show, zoomCentre,
      whole: function () { touched = false; fit(); },
      loop: function () { touched = true; show(geometry.loop); },
    };
  }

  function toolbar() {
    const bar = htmlEl("div", "map-tools");
    const buttons = [
      ["zoom-in", "+", "Zoom in", function () { main.zoomCentre(1.6); }],
      ["zoom-out", "\u2212", "Zoom out", function () { main.zoomCentre(1 / 1.6); }],
      ["whole", "Whole \u2018L\u2019", "Show the whole network", function () { main.whole(); }],
      ["loop", "Loop", "Zoom onto the Loop", function () { if (geometry.loop) main.loop(); }],
    ];
    for (const [id, text, label, action] of buttons) {
      const button = htmlEl("button", "map-" + id, text);
      button.type = "button";
      button.title = label;
      button.setAttribute("aria-label", label);
      button.addEventListener("click", action);
      bar.appendChild(button);
    }
    const legend = htmlEl("ul", "map-legend");
    for (const line of geometry.lines) {
      const item = htmlEl("li", "", line.name);
      item.style.setProperty("--line-color", line.color);
      legend.appendChild(item);
    }
    bar.appendChild(legend);
    return bar;
  }

  function buildAll() {
    container.replaceChildren();
    lineRank = new Map(geometry.lines.map(function (line, i) { return [line.line, i]; }));
    container.appendChild(toolbar());
    const stage = htmlEl("div", "map-stage");
    container.appendChild(stage);
    main = MapView({ host: stage, interactive: true, className: "main",
                     label: "Map of the whole \u2018L\u2019: lines, stations, trains" });
    views.push(main);
    if (geometry.loop) {
      // The Loop at a glance: a fixed inset beside the network; a click on it zooms there.
      const host = htmlEl("div", "loop-inset");
      host.appendChild(htmlEl("span", "loop-caption", "The Loop"));
      stage.appendChild(host);
      views.push(MapView({ host: host, interactive: false, className: "inset", box: geometry.loop,
                           label: "The Loop, enlarged" }));
      host.addEventListener("click", function (event) {
        if (!event.target.closest(".station, .train")) main.loop();
      });
    }
    window.addEventListener("resize", function () {
      for (const view of views) view.refit();
    });
  }

  function render(state) {
    if (!state) return;
    for (const view of views) view.render(state);
  }

  function load(delayMs) {
    fetch("/api/map").then(function (response) {
      if (!response.ok) throw new Error("/api/map answered " + response.status);
      return response.json();
    }).then(function (data) {
      geometry = data;
      buildAll();
      render(board.state);
    }).catch(function (error) {
      console.error("cannot load the map", error);
      window.setTimeout(function () { load(Math.min(delayMs * 2, 30000)); }, delayMs);
    });
  }

  board.listeners.push(render);
  load(1000);
})();
