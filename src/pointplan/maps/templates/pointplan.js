/* pointplan's small Leaflet helpers: GeoJSON layers with tooltips/popups, legends that
   follow their layer, attributions, unit-name labels that appear when zoomed in, and
   the clustering of many points. */
var pointplan = window.pointplan || (function () {
  function pane(map, name, z) {
    if (!name) { return; }
    if (!map.getPane(name)) { map.createPane(name); map.getPane(name).style.zIndex = z; }
  }
  var shared = {};
  function share(key, feats, popups) {
    // Layers of the same units share one copy of the shapes and popups in the page.
    var base = shared[key];
    if (!base) { shared[key] = feats; return; }
    for (var i = 0; i < feats.length && i < base.length; i++) {
      if (!feats[i].geometry) { feats[i].geometry = base[i].geometry; }
      if (popups && feats[i].properties && feats[i].properties._p === undefined) {
        feats[i].properties._p = base[i].properties._p;
      }
    }
  }
  function style(map, cfg) {
    return function (f) {
      var s = Object.assign({}, cfg.style || {});
      var p = (f && f.properties) || {};
      if (cfg.byClass && p.c != null && cfg.byClass[p.c]) { Object.assign(s, cfg.byClass[p.c]); }
      // Minor classes (e.g. tertiary roads) appear only once zoomed in far enough.
      if (cfg.minZoom && p.c != null && map.getZoom() < (cfg.minZoom[p.c] || 0)) { s.opacity = 0; }
      if (p._s) { Object.assign(s, p._s); }
      return s;
    };
  }
  function marker(map, cfg, f, ll) {
    var p = f.properties;
    if (p._l != null) {  // a text label (unit name), shown from zoom p._z on
      return L.marker(ll, {pane: cfg.pane, interactive: false, keyboard: false,
        icon: L.divIcon({className: 'pp-label', html: '<span>' + p._l + '</span>', iconSize: null})});
    }
    if (cfg.circles) {  // small circles styled like shapes (bus stops by frequency)
      return L.circleMarker(ll, Object.assign({pane: cfg.pane || 'overlayPane'}, style(map, cfg)(f)));
    }
    var mk = L.marker(ll, {icon: L.divIcon(cfg.icons[p._i]), riseOnHover: true});
    mk.once('add', function () {
      var el = mk.getElement();
      if (el && p._id != null) { el.setAttribute('data-pid', p._id); }
    });
    return mk;
  }
  function labelsByZoom(map, gj) {
    function update() {
      var z = map.getZoom();
      gj.eachLayer(function (l) {
        var el = l.getElement && l.getElement();
        var p = l.feature && l.feature.properties;
        if (el && p && p._z != null) { L.DomUtil[z >= p._z ? 'removeClass' : 'addClass'](el, 'pp-hidden'); }
      });
    }
    map.on('zoomend', update);
    gj.on('add', update);
    setTimeout(update, 0);
  }
  function bind(cfg, reset, f, l) {
    var p = f.properties || {};
    var sticky = f.geometry.type !== 'Point';
    if (p._t) { l.bindTooltip((cfg.tipTitle || '') + p._t, {sticky: sticky, className: 'pp-tip'}); }
    if (p._p) { l.bindPopup(p._p, {maxWidth: 360, className: 'pp-pop'}); }
    if (cfg.hover && l.setStyle) {
      l.on('mouseover', function () { l.setStyle(cfg.hover); l.bringToFront(); });
      l.on('mouseout', function () { reset(l); });
    }
  }
  function clusters(map, group, data, cfg) {
    // Many points: those closer than cfg.cluster.px pixels are drawn as one numbered circle
    // (a click zooms in); only the points in view get a marker, made when first shown.
    var feats = data.features || [], opt = cfg.cluster, made = {};
    var lls = feats.map(function (f) { return L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]); });
    var shown = L.layerGroup().addTo(group);
    function one(i) {
      if (!made[i]) { made[i] = marker(map, cfg, feats[i], lls[i]); made[i].feature = feats[i]; bind(cfg, null, feats[i], made[i]); }
      return made[i];
    }
    function bubble(idx, z) {
      var lat = 0, lng = 0, n = idx.length, px = n < 100 ? 30 : (n < 1000 ? 36 : 44);
      idx.forEach(function (i) { lat += lls[i].lat; lng += lls[i].lng; });
      var c = L.marker([lat / n, lng / n], {icon: L.divIcon({className: 'pp-cluster',
        html: '<span>' + n + '</span>', iconSize: [px, px]})});
      c.on('click', function () { map.setView(c.getLatLng(), Math.min(z + 2, opt.maxZoom)); });
      return c;
    }
    function draw() {
      shown.clearLayers();
      if (!map.hasLayer(group)) { return; }
      var z = map.getZoom(), view = map.getBounds().pad(0.25), cells = {}, i, key;
      for (i = 0; i < lls.length; i++) {
        if (!view.contains(lls[i])) { continue; }
        var xy = map.project(lls[i], z);
        key = Math.floor(xy.x / opt.px) + ':' + Math.floor(xy.y / opt.px);
        (cells[key] = cells[key] || []).push(i);
      }
      for (key in cells) {
        var idx = cells[key];
        if (idx.length === 1 || z >= opt.maxZoom) { idx.forEach(function (j) { shown.addLayer(one(j)); }); }
        else { shown.addLayer(bubble(idx, z)); }
      }
    }
    map.on('zoomend moveend', draw);
    group.on('add', draw);
    setTimeout(draw, 0);
    return shown;
  }
  function layer(map, group, data, cfg) {
    pane(map, cfg.pane, cfg.z);
    if (cfg.share) { share(cfg.share, data.features || [], cfg.interactive !== false); }
    if (cfg.cluster) { return clusters(map, group, data, cfg); }
    var gj = L.geoJSON(data, {
      pane: cfg.pane || 'overlayPane',
      interactive: cfg.interactive !== false,
      style: style(map, cfg),
      pointToLayer: function (f, ll) { return marker(map, cfg, f, ll); },
      onEachFeature: function (f, l) { bind(cfg, function (x) { gj.resetStyle(x); }, f, l); }
    });
    gj.addTo(group);
    if (cfg.labels) { labelsByZoom(map, gj); }
    if (cfg.minZoom) { map.on('zoomend', function () { gj.setStyle(style(map, cfg)); }); }
    return gj;
  }
  function legend(map, html, position, cls, group) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      var d = L.DomUtil.create('div', 'pp-legend ' + (cls || ''));
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    if (!group) { ctl.addTo(map); } else {
      // The group is put on the map after its children's scripts: look once it is. The
      // legend follows the group (an overlay ticked, or a metric chosen among the radios).
      setTimeout(function () { if (map.hasLayer(group) && !ctl._map) { ctl.addTo(map); } }, 0);
      group.on('add', function () { if (!ctl._map) { ctl.addTo(map); } });
      group.on('remove', function () { ctl.remove(); });
    }
    return ctl;
  }
  function groupControl(ctl, sections, titles) {
    // Headings in the layer control: the metrics (one at a time), then the overlays by
    // section (points, context), each section's layers together.
    function heading(list, text, before) {
      var h = L.DomUtil.create('div', 'pp-ctl-heading');
      h.textContent = text;
      list.insertBefore(h, before || null);
    }
    function rank(o) { return o.overlay ? (sections[o.name] === 'points' ? 1 : 2) : 0; }
    ctl._layers = ctl._layers.map(function (o, i) { return [o, i]; })
      .sort(function (a, b) { return rank(a[0]) - rank(b[0]) || a[1] - b[1]; })
      .map(function (x) { return x[0]; });
    var orig = ctl._update;
    ctl._update = function () {
      var out = orig.apply(this, arguments);
      if (!this._container) { return out; }
      if (titles.metrics && this._baseLayersList.children.length) {
        heading(this._baseLayersList, titles.metrics, this._baseLayersList.firstChild);
      }
      var labels = Array.prototype.slice.call(this._overlaysList.children);
      var last = null;
      var overlays = this._layers.filter(function (o) { return o.overlay; });
      for (var i = 0; i < overlays.length && i < labels.length; i++) {
        var key = sections[overlays[i].name] || 'context';
        if (key !== last && titles[key]) { heading(this._overlaysList, titles[key], labels[i]); }
        last = key;
      }
      return out;
    };
    if (ctl._map) { ctl._update(); }
    L.DomUtil.addClass(ctl.getContainer(), 'pp-layers');
  }
  function attribution(map, texts) {
    if (!map.attributionControl) { return; }
    for (var i = 0; i < texts.length; i++) { map.attributionControl.addAttribution(texts[i]); }
  }
  return {layer: layer, legend: legend, attribution: attribution, groupControl: groupControl};
})();
window.pointplan = pointplan;
