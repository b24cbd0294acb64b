/* A bar chart drawn as inline SVG: no chart library. */
(function () {
  "use strict";
  var Desk = (window.Desk = window.Desk || {});
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = { 5: "#1e6b34", 4: "#3c8d52", 3: "#8a6d00", 2: "#b35c00", 1: "#a4000f" };

  function node(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text != null) n.textContent = text;
    return n;
  }

  /* rows: [{score, label, count}] */
  Desk.barChart = function (container, rows) {
    container.textContent = "";
    var W = 640, H = 280, left = 48, bottom = 48, top = 20, plotH = H - top - bottom;
    // Whole-number gridlines: the axis top is the data maximum rounded up to a multiple of 4 steps.
    var peak = Math.max(0, Math.max.apply(null, rows.map(function (r) { return r.count; })));
    var tickStep = Math.max(1, Math.ceil(peak / 4)), max = tickStep * 4;
    var svg = node("svg", { viewBox: "0 0 " + W + " " + H, "data-total": rows.reduce(function (s, r) { return s + r.count; }, 0) });
    svg.appendChild(node("line", { x1: left, y1: top + plotH, x2: W - 10, y2: top + plotH, stroke: "#4d4d4d" }));
    var step = (W - left - 10) / Math.max(rows.length, 1), barW = Math.min(70, step * 0.6);
    for (var t = 0; t <= 4; t++) {
      var v = tickStep * t, y = top + plotH - plotH * t / 4;
      svg.appendChild(node("text", { x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 12, fill: "#4d4d4d" }, String(v)));
      if (t) svg.appendChild(node("line", { x1: left, y1: y, x2: W - 10, y2: y, stroke: "#e0e0e0" }));
    }
    rows.forEach(function (r, i) {
      var h = plotH * r.count / max, x = left + step * i + (step - barW) / 2, y = top + plotH - h;
      var bar = node("rect", { x: x, y: y, width: barW, height: Math.max(h, 0), fill: COLORS[r.score] || "#0b57d0",
        "data-score": r.score, "data-count": r.count, "class": "bar" });
      bar.appendChild(node("title", {}, r.label + "：" + r.count));
      svg.appendChild(bar);
      svg.appendChild(node("text", { x: x + barW / 2, y: y - 4, "text-anchor": "middle", "font-size": 13, fill: "#1f1f1f" }, String(r.count)));
      svg.appendChild(node("text", { x: x + barW / 2, y: top + plotH + 20, "text-anchor": "middle", "font-size": 13, fill: "#1f1f1f" }, r.label));
    });
    container.appendChild(svg);
  };
})();
