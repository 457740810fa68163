// The dashboard's charts, drawn with uPlot from the numbers in each chart's own table (so a
// chart and its table cannot disagree). Without scripts the tables are still there.
(function () {
  "use strict";
  var COLOURS = ["#0b5cad", "#1d6b35", "#a11a1a", "#6a3d9a"];
  var DASHES = [[], [8, 4], [2, 3], [12, 3, 2, 3]];

  function number(text) {
    return text === "" || text === undefined ? null : Number(text);
  }

  // [x (epoch seconds of each week's Monday), then one array per plotted column], labels.
  function readTable(table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var plotted = [];
    heads.forEach(function (th, i) {
      if (th.dataset.plot) plotted.push(i);
    });
    var data = [[]].concat(plotted.map(function () { return []; }));
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var cells = tr.children;
      data[0].push(Date.parse(cells[0].dataset.value + "T12:00:00Z") / 1000);
      plotted.forEach(function (col, k) {
        data[k + 1].push(number(cells[col].dataset.value));
      });
    });
    var labels = plotted.map(function (i) { return heads[i].textContent.trim(); });
    return { data: data, labels: labels };
  }

  function draw(figure) {
    var table = document.getElementById(figure.dataset.table);
    var target = figure.querySelector(".chart-canvas");
    if (!table || !target || typeof uPlot === "undefined") return;
    var read = readTable(table);
    var unit = figure.dataset.unit || "";
    var percent = unit === "%";
    var series = [{ label: "Week of", value: "{YYYY}-{MM}-{DD}" }].concat(
      read.labels.map(function (label, k) {
        return {
          label: label,
          stroke: COLOURS[k % COLOURS.length],
          dash: DASHES[k % DASHES.length],
          width: 2,
          points: { show: true, size: 6 },
          spanGaps: false,
          value: function (u, v) { return v === null ? "–" : percent ? v + " %" : String(v); },
        };
      })
    );
    var options = {
      width: Math.max(280, target.clientWidth || 560),
      height: 220,
      scales: { x: { time: true }, y: { range: function (u, min, max) {
        return [0, Math.max(percent ? 10 : 1, Math.ceil((max || 0) * 1.15))];
      } } },
      axes: [
        { values: "{MMM} {D}", splits: function (u) { return u.data[0]; } },
        { label: unit, values: function (u, vals) {
          return vals.map(function (v) { return percent ? v + "%" : String(v); });
        } },
      ],
      series: series,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    var chart = new uPlot(options, read.data, target);
    figure.uplot = chart; // for the browser tests: what the chart plots
    figure.dataset.drawn = "1";
    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(280, target.clientWidth || 560), height: 220 });
    });
  }

  function start() {
    document.querySelectorAll("figure.chart[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
