/* pointplan scenario editor. Data from the server is only ever put on the page as text
   (textContent, DOM nodes); the only markup inserted is the marker SVG the server builds
   from fixed shapes (no data inside). */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var LANG = params.get("lang") === "en" ? "en" : "vi";
  var T = {
    vi: {colour_by: "Tô màu theo", mode: "Phương tiện", undo: "↶ Hoàn tác", redo: "↷ Làm lại", download: "Tải về:",
         figures: "Chỉ số toàn thành phố", selected: "Điểm đang chọn", counters: "Số quầy", set: "Đặt số quầy",
         close: "Đóng điểm này", add: "Mở điểm mới", kind: "Loại", add_on: "Bấm lên bản đồ để thêm…",
         add_off: "Thêm điểm bằng cách bấm lên bản đồ", proposals: "Đề xuất vị trí", run: "Tìm đề xuất",
         add_this: "Thêm", busy: "Đang tính…", pending: "Khoảng P5–P95 đang được tính…",
         interval: "P5–P95", no_interval: "Chưa có khoảng tin cậy.", changed: "đơn vị thay đổi",
         no_data: "Không có số liệu", people_in: "người vào chuẩn", saves: "tiết kiệm", pmin: "người·phút/ngày", standin: "vị trí tạm (rỗng)",
         points: "Điểm", legend_points: "Điểm phục vụ (rỗng = vị trí tạm)", done: "Xong", loading: "Đang tải…",
         load: "Lượt/ngày", util: "sử dụng", other_lang: "English", proposal: "Đề xuất",
         modes: {walk: "Đi bộ", bike: "Xe đạp", motorbike: "Xe máy", car: "Ô tô"},
         kinds: {kiosk: "Ki-ốt", community: "Điểm cộng đồng", unit_point: "Điểm phục vụ", branch: "Chi nhánh",
                 mobile: "Lưu động", head_office: "Trụ sở", other: "Khác", proposed: "Đề xuất"}},
    en: {colour_by: "Colour by", mode: "Mode", undo: "↶ Undo", redo: "↷ Redo", download: "Download:",
         figures: "City-wide figures", selected: "Selected point", counters: "Counters", set: "Set counters",
         close: "Close this point", add: "Open a point", kind: "Kind", add_on: "Click on the map to add…",
         add_off: "Add a point by clicking on the map", proposals: "Proposed sites", run: "Find proposals",
         add_this: "Add", busy: "Computing…", pending: "The P5–P95 intervals are being computed…",
         interval: "P5–P95", no_interval: "No interval yet.", changed: "units changed",
         no_data: "No data", people_in: "people within the standard", saves: "saves", pmin: "person-minutes a day", standin: "stand-in (hollow)",
         points: "Points", legend_points: "Service points (hollow = stand-in)", done: "Done", loading: "Loading…",
         load: "Visits/day", util: "utilisation", other_lang: "Tiếng Việt", proposal: "Proposal",
         modes: {walk: "Walk", bike: "Bicycle", motorbike: "Motorbike", car: "Car"},
         kinds: {kiosk: "Kiosk", community: "Community point", unit_point: "Unit point", branch: "Branch",
                 mobile: "Mobile point", head_office: "Head office", other: "Other", proposed: "Proposed"}}
  }[LANG];
  var NUM = new Intl.NumberFormat(LANG === "en" ? "en-GB" : "vi-VN", {maximumFractionDigits: 1});
  var MIN = new Intl.NumberFormat(LANG === "en" ? "en-GB" : "vi-VN", {minimumFractionDigits: 1, maximumFractionDigits: 1});
  var NUM2 = new Intl.NumberFormat(LANG === "en" ? "en-GB" : "vi-VN", {maximumFractionDigits: 2});
  var INT = new Intl.NumberFormat(LANG === "en" ? "en-GB" : "vi-VN", {maximumFractionDigits: 0});

  var ed = {meta: null, state: null, metric: "mean_minutes", unitLayers: {}, markers: {}, selected: null,
            adding: false, busy: 0, unitNames: {}, pollTimer: null, requests: 0};
  window.ppEditor = ed;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function fmt(v, kind) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) { return "–"; }
    if (kind === "share") { return NUM2.format(100 * v) + " %"; }
    if (kind === "minutes") { return MIN.format(v) + (LANG === "en" ? " min" : " phút"); }
    if (kind === "count") { return INT.format(v); }
    return NUM.format(v);
  }

  function message(text, cls) {
    var m = $("message");
    m.textContent = text || "";
    m.className = cls || "";
  }

  function api(method, path, body) {
    ed.busy += 1; ed.requests += 1;
    message(T.busy, "busy");
    var opts = {method: method, headers: {}, credentials: "same-origin"};
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {error: "HTTP " + r.status}; }).then(function (data) {
        ed.busy -= 1;
        if (!r.ok) { var err = new Error(data.error || ("HTTP " + r.status)); err.status = r.status; throw err; }
        if (ed.busy === 0) { message("", ""); }
        return data;
      });
    }, function (e) { ed.busy -= 1; throw e; });
  }
  function fail(e) { message(String(e.message || e), "error"); if (ed.state) { render(ed.state); } }

  // ---- colours and legend --------------------------------------------------------------
  function metricDef(key) {
    for (var i = 0; i < ed.meta.metrics.length; i++) { if (ed.meta.metrics[i].key === key) { return ed.meta.metrics[i]; } }
    return ed.meta.metrics[0];
  }
  function colourFor(key, v) {
    var m = metricDef(key), pal = ed.meta.palette;
    if (v === null || v === undefined || !isFinite(v)) { return ed.meta.no_data; }
    var k = 0;
    while (k < m.breaks.length && v >= m.breaks[k]) { k += 1; }
    return m.better === "low" ? pal[k] : pal[pal.length - 1 - k];
  }
  ed.colourFor = colourFor;
  ed.unitColour = function (code) {
    var l = ed.unitLayers[code];
    return l ? l.options.fillColor : null;
  };

  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () { this._div = el("div", null, "pp-legend"); return this._div; };
  function drawLegend() {
    var d = legend._div, m = metricDef(ed.metric), pal = ed.meta.palette;
    d.textContent = "";
    d.appendChild(el("b", m.label));
    var n = pal.length;
    for (var k = 0; k < n; k++) {
      var lo = k === 0 ? null : m.breaks[k - 1], hi = k === n - 1 ? null : m.breaks[k];
      var text = lo === null ? "< " + fmt(hi, m.fmt) : (hi === null ? "≥ " + fmt(lo, m.fmt) : fmt(lo, m.fmt) + " – " + fmt(hi, m.fmt));
      var row = el("div");
      var sw = el("i"); sw.style.background = m.better === "low" ? pal[k] : pal[n - 1 - k];
      row.appendChild(sw); row.appendChild(document.createTextNode(text)); d.appendChild(row);
    }
    var nd = el("div"); var sw2 = el("i"); sw2.style.background = ed.meta.no_data;
    nd.appendChild(sw2); nd.appendChild(document.createTextNode(T.no_data)); d.appendChild(nd);
    var kinds = el("div", null, "pp-kinds");
    kinds.appendChild(el("b", T.legend_points));
    ["unit_point", "branch", "community", "mobile", "kiosk"].forEach(function (k) {
      var s = el("span", null, "k"); s.innerHTML = ed.meta.markers[k].svg;  // server-built, no data inside
      s.appendChild(document.createTextNode(T.kinds[k])); kinds.appendChild(s);
    });
    var si = el("span", null, "k"); si.innerHTML = ed.meta.markers.unit_point.svg_standin;
    si.appendChild(document.createTextNode(T.standin)); kinds.appendChild(si);
    d.appendChild(kinds);
  }

  // ---- map -----------------------------------------------------------------------------
  var map = L.map("map", {zoomControl: true, preferCanvas: false, attributionControl: true});
  ed.map = map;
  map.attributionControl.setPrefix("Leaflet");
  map.attributionControl.addAttribution("© OpenStreetMap contributors; WorldPop; bando.com.vn");
  var unitsLayer = null, pointsLayer = L.layerGroup().addTo(map), proposalsLayer = L.layerGroup().addTo(map);

  function unitStyle(code) {
    var f = (ed.state && ed.state.units[code]) || {};
    var changed = ed.state && ed.state.changed_units.indexOf(code) >= 0;
    return {fillColor: colourFor(ed.metric, f[ed.metric]), fillOpacity: 0.68, color: changed ? "#ff00ff" : "#555",
            weight: changed ? 3 : 0.7, opacity: 1};
  }
  function recolour() {
    Object.keys(ed.unitLayers).forEach(function (code) {
      var l = ed.unitLayers[code]; l.setStyle(unitStyle(code));
      var p = l.getElement && l.getElement();
      if (p) { p.setAttribute("data-unit", code); p.setAttribute("data-changed", ed.state.changed_units.indexOf(code) >= 0 ? "1" : "0"); }
      if (ed.state.changed_units.indexOf(code) >= 0) { l.bringToFront(); }
    });
  }
  function unitTooltip(code) {
    var f = (ed.state && ed.state.units[code]) || {}, m = metricDef(ed.metric);
    var d = el("div"); d.appendChild(el("b", ed.unitNames[code] || code)); d.appendChild(el("br"));
    d.appendChild(document.createTextNode(m.label + ": " + fmt(f[ed.metric], m.fmt)));
    return d;
  }

  function markerIcon(p) {
    var mk = ed.meta.markers[p.kind] || ed.meta.markers.other;
    var svg = p.standin && mk.svg_standin ? mk.svg_standin : mk.svg;
    var cls = "pp-marker pp-kind-" + (ed.meta.markers[p.kind] ? p.kind : "other") + (p.standin ? " pp-standin" : "") +
              (ed.selected === p.id ? " pp-selected" : "");
    var h = Math.round(mk.size / 2);
    return L.divIcon({html: svg, className: cls, iconSize: [mk.size, mk.size], iconAnchor: [h, h]});
  }
  function pointTooltip(p) {
    var d = el("div"); d.appendChild(el("b", p.name));
    d.appendChild(el("br")); d.appendChild(document.createTextNode((T.kinds[p.kind] || p.kind) + " · " + p.precision));
    return d;
  }
  function drawPoints() {
    var seen = {};
    ed.state.points.forEach(function (p) {
      seen[p.id] = true;
      var m = ed.markers[p.id];
      if (!m) {
        m = L.marker([p.lat, p.lon], {draggable: true, icon: markerIcon(p), keyboard: false, riseOnHover: true});
        m.on("dragend", function () { var ll = m.getLatLng(); move(m.ppId, ll.lng, ll.lat); });
        m.on("click", function (ev) { L.DomEvent.stopPropagation(ev); select(m.ppId); });
        m.ppId = p.id; m.addTo(pointsLayer); ed.markers[p.id] = m;
      } else {
        m.setLatLng([p.lat, p.lon]); m.setIcon(markerIcon(p));
      }
      m.unbindTooltip(); m.bindTooltip(pointTooltip(p), {direction: "top"});
      var e = m.getElement(); if (e) { e.setAttribute("data-point", p.id); }
    });
    Object.keys(ed.markers).forEach(function (id) {
      if (!seen[id]) { pointsLayer.removeLayer(ed.markers[id]); delete ed.markers[id]; }
    });
    if (ed.selected && !seen[ed.selected]) { select(null); } else if (ed.selected) { select(ed.selected); }
  }

  // ---- panel ---------------------------------------------------------------------------
  function drawHeadline() {
    var body = $("headline").tBodies[0], st = ed.state, prev = ed.prevHeadline || {};
    body.textContent = "";
    ed.meta.headlines.forEach(function (h) {
      var v = st.headline[h.key], tr = el("tr"), td = el("td", null, "v");
      tr.appendChild(el("td", h.label));
      td.appendChild(document.createTextNode(fmt(v, h.fmt)));
      td.setAttribute("data-key", h.key);
      td.setAttribute("data-value", v === null || v === undefined ? "" : String(v));
      var iv = st.intervals && st.intervals[h.key];
      if (iv) { td.appendChild(el("span", T.interval + ": " + fmt(iv[0], h.fmt) + " – " + fmt(iv[2], h.fmt), "iv")); }
      if (prev[h.key] !== undefined && prev[h.key] !== v) { tr.className = "moved"; }
      tr.appendChild(td); body.appendChild(tr);
    });
    $("interval-note").textContent = st.details_pending ? T.pending : (st.intervals ? "" : T.no_interval);
  }
  function select(id) {
    ed.selected = id;
    Object.keys(ed.markers).forEach(function (k) {
      var e = ed.markers[k].getElement(); if (e) { e.classList.toggle("pp-selected", k === id); }
    });
    var p = null;
    (ed.state ? ed.state.points : []).forEach(function (q) { if (q.id === id) { p = q; } });
    $("selected").hidden = !p;
    if (!p) { return; }
    $("sel-name").textContent = p.name;
    $("sel-kind").textContent = T.kinds[p.kind] || p.kind;
    $("sel-precision").textContent = p.precision + (p.standin ? " (" + T.standin + ")" : "");
    $("sel-address").textContent = p.address;
    $("sel-load").textContent = T.load + ": " + fmt(p.visits, "number") + " · " + T.util + " " + fmt(p.utilisation, "share");
    if (document.activeElement !== $("sel-counters")) { $("sel-counters").value = p.counters || 1; }
  }
  function render(st) {
    ed.prevHeadline = ed.state ? ed.state.headline : null;
    ed.state = st;
    recolour(); drawPoints(); drawHeadline();
    $("undo").disabled = !st.can_undo; $("redo").disabled = !st.can_redo;
    $("mode").value = st.mode;
    document.body.setAttribute("data-version", String(st.version));
    poll();
  }
  function poll() {
    if (ed.pollTimer) { clearTimeout(ed.pollTimer); ed.pollTimer = null; }
    if (!ed.state.details_pending) { return; }
    ed.pollTimer = setTimeout(function () {
      fetch("/api/state", {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (st) {
        if (st.version === ed.state.version) { var prev = ed.prevHeadline; render(st); ed.prevHeadline = prev; }
        else { poll(); }
      }).catch(function () { poll(); });
    }, 1500);
  }
  function changed(data) {
    render(data.state);
    message(T.done + " (" + NUM2.format(data.seconds) + " s; " + data.changed_units.length + " " + T.changed + ")", "ok");
    return data;
  }

  // ---- operations ----------------------------------------------------------------------
  function move(id, lon, lat) { return api("POST", "/api/move", {point_id: id, lon: lon, lat: lat}).then(changed).catch(fail); }
  function add(lon, lat, name) {
    var body = {lon: lon, lat: lat, kind: $("add-kind").value, counters: parseInt($("add-counters").value, 10)};
    if (name) { body.name = name; }
    return api("POST", "/api/add", body).then(function (d) { changed(d); if (d.point_id) { select(d.point_id); } return d; }).catch(fail);
  }
  ed.move = move; ed.add = add;
  map.on("click", function (ev) {
    if (!ed.adding) { return; }
    setAdding(false);
    add(ev.latlng.lng, ev.latlng.lat);
  });
  function setAdding(on) {
    ed.adding = on;
    $("add-toggle").setAttribute("aria-pressed", on ? "true" : "false");
    $("add-toggle").textContent = on ? T.add_on : T.add_off;
    $("map").classList.toggle("adding", on);
  }
  function proposals() {
    var n = parseInt($("prop-n").value, 10);
    api("POST", "/api/propose", {n: n}).then(function (d) {
      var list = $("prop-list"); list.textContent = ""; proposalsLayer.clearLayers();
      d.proposals.forEach(function (p) {
        var li = el("li");
        li.appendChild(el("b", p.name));
        var gain = [];
        if (p.gain_person_minutes_saved !== null) { gain.push(T.saves + " " + INT.format(p.gain_person_minutes_saved) + " " + T.pmin); }
        if (p.gain_people_covered) { gain.push("+" + INT.format(p.gain_people_covered) + " " + T.people_in); }
        li.appendChild(document.createTextNode(" " + gain.join(", ")));
        var b = el("button", T.add_this); b.type = "button";
        b.addEventListener("click", function () { add(p.lon, p.lat, T.proposal + " " + p.rank); li.remove(); });
        li.appendChild(b); list.appendChild(li);
        var icon = L.divIcon({html: ed.meta.proposal_markers[p.rank - 1] || ed.meta.markers.proposed.svg, className: "pp-marker pp-kind-proposed", iconSize: [24, 24], iconAnchor: [12, 12]});
        L.marker([p.lat, p.lon], {icon: icon, interactive: false}).addTo(proposalsLayer);
      });
      message(d.proposals.length + " " + T.proposals.toLowerCase(), "ok");
    }).catch(fail);
  }

  function wire() {
    document.querySelectorAll("[data-t]").forEach(function (e) { e.textContent = T[e.getAttribute("data-t")]; });
    $("undo").textContent = T.undo; $("redo").textContent = T.redo; $("sel-set").textContent = T.set;
    $("sel-close").textContent = T.close; $("prop-run").textContent = T.run;
    $("lang-switch").textContent = T.other_lang; $("lang-switch").href = LANG === "en" ? "?lang=vi" : "?lang=en";
    ["dl-report", "dl-tables"].forEach(function (id) { $(id).href += "?lang=" + LANG; });
    document.documentElement.lang = LANG;
    ed.meta.metrics.forEach(function (m) { var o = el("option", m.label); o.value = m.key; $("metric").appendChild(o); });
    ed.meta.modes.forEach(function (m) { var o = el("option", T.modes[m] || m); o.value = m; $("mode").appendChild(o); });
    ed.meta.kinds.forEach(function (k) { var o = el("option", T.kinds[k] || k); o.value = k; $("add-kind").appendChild(o); });
    $("metric").addEventListener("change", function () { ed.metric = $("metric").value; recolour(); drawLegend(); });
    $("mode").addEventListener("change", function () { api("POST", "/api/mode", {mode: $("mode").value}).then(changed).catch(fail); });
    $("undo").addEventListener("click", function () { api("POST", "/api/undo", {}).then(changed).catch(fail); });
    $("redo").addEventListener("click", function () { api("POST", "/api/redo", {}).then(changed).catch(fail); });
    $("sel-set").addEventListener("click", function () {
      api("POST", "/api/counters", {point_id: ed.selected, counters: parseInt($("sel-counters").value, 10)}).then(changed).catch(fail);
    });
    $("sel-close").addEventListener("click", function () { api("POST", "/api/remove", {point_id: ed.selected}).then(changed).catch(fail); });
    $("add-toggle").addEventListener("click", function () { setAdding(!ed.adding); });
    $("prop-run").addEventListener("click", proposals);
    setAdding(false);
  }

  function start() {
    message(T.loading, "busy");
    Promise.all([
      fetch("/api/meta?lang=" + LANG, {credentials: "same-origin"}).then(function (r) { return r.json(); }),
      fetch("/api/units", {credentials: "same-origin"}).then(function (r) { return r.json(); }),
      fetch("/api/state", {credentials: "same-origin"}).then(function (r) { return r.json(); })
    ]).then(function (res) {
      ed.meta = res[0]; ed.state = res[2];
      wire();
      unitsLayer = L.geoJSON(res[1], {
        style: function (f) { return unitStyle(f.id); },
        onEachFeature: function (f, layer) {
          ed.unitLayers[f.id] = layer; ed.unitNames[f.id] = f.properties.name;
          layer.bindTooltip(function () { return unitTooltip(f.id); }, {sticky: true});
        }
      }).addTo(map);
      map.fitBounds(unitsLayer.getBounds(), {padding: [8, 8]});
      legend.addTo(map); drawLegend();
      render(res[2]);
      message("", "");
      document.body.setAttribute("data-ready", "1");
    }).catch(fail);
  }
  start();
})();
