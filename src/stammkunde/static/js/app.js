// Behaviour every page may use, as data attributes instead of inline handlers (the
// Content-Security-Policy runs no inline script).
(function () {
  "use strict";

  // <input type="checkbox" data-select-all="CSS selector">: ticks or clears every box it names.
  document.addEventListener("change", function (event) {
    const all = event.target.closest("input[data-select-all]");
    if (!all) return;
    document.querySelectorAll(all.dataset.selectAll).forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // <details data-fold-below="760">: open on wide screens, folded on narrow ones (the menu).
  document.querySelectorAll("details[data-fold-below]").forEach(function (box) {
    const narrow = window.matchMedia("(max-width: " + box.dataset.foldBelow + "px)");
    function fit() {
      box.open = !narrow.matches;
    }
    fit();
    narrow.addEventListener("change", fit);
  });
})();
