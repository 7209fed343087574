// Draws a Chart.js chart from the table beside it, so the chart shows exactly the table's
// numbers (the table is the accessible alternative). A canvas names its table in
// data-chart-table; the table's header cells with data-series are the series ("bar" or "line"),
// each row's <th> is a label and its cells with data-value are the numbers, in column order.
// A button with data-chart-png="<canvas id>" saves the chart as a PNG.
(function () {
  "use strict";

  var COLOURS = ["#0d6efd", "#198754", "#dc3545", "#6f42c1", "#fd7e14", "#20c997", "#6c757d"];

  function tableData(table) {
    var headers = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var series = [];
    headers.forEach(function (th, index) {
      if (th.dataset.series) {
        series.push({ index: index, label: th.textContent.trim(), type: th.dataset.series });
      }
    });
    var labels = [];
    var values = series.map(function () { return []; });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var cells = row.children;
      labels.push(cells[0].textContent.trim().replace(/\s+/g, " "));
      series.forEach(function (s, i) {
        var cell = cells[s.index];
        values[i].push(cell && cell.dataset.value !== undefined ? Number(cell.dataset.value) : null);
      });
    });
    return { labels: labels, series: series, values: values };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.dataset.chartTable);
    if (!table || typeof window.Chart === "undefined") {
      return;
    }
    var data = tableData(table);
    var chart = new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {
            type: s.type, label: s.label, data: data.values[i],
            backgroundColor: COLOURS[i % COLOURS.length], borderColor: COLOURS[i % COLOURS.length],
            order: s.type === "line" ? 0 : 1
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true } }
      }
    });
    canvas.dataset.chartReady = "1";
    // The numbers drawn, for anyone checking the chart against the table (the browser tests).
    canvas.dataset.chartValues = JSON.stringify(chart.data.datasets.map(function (d) { return d.data; }));
    document.querySelectorAll('[data-chart-png="' + canvas.id + '"]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        canvas.toBlob(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = button.dataset.filename || "chart.png";
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
        }, "image/png");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart-table]").forEach(draw);
  });
})();
