// Draws the plotly charts of a page from their JSON data blocks (core/charts.py).
// The page carries no inline script: the Content-Security-Policy allows only our own files.
(function () {
  "use strict";

  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("div.plotly-chart[data-figure]").forEach(function (div) {
      if (div.dataset.drawn) return;
      const block = document.getElementById(div.dataset.figure);
      if (!block) return;
      const figure = JSON.parse(block.textContent);
      div.dataset.drawn = "1";
      window.Plotly.newPlot(div, figure.data || [], figure.layout || {}, figure.config || {});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  // Charts that arrive with an htmx swap.
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  // Charts drawn before the style sheet settled take their container's final width.
  window.addEventListener("load", function () {
    document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
      window.Plotly.Plots.resize(plot);
    });
  });
})();
