// The event list's filter is behind a "Filter" button on phones; on wider screens it opens
// by itself. Without JavaScript it is closed unless a filter is in use (one click away).
(function () {
  "use strict";
  if (window.matchMedia && window.matchMedia("(min-width: 48rem)").matches) {
    document.querySelectorAll("details.filter-collapse").forEach(function (box) {
      box.open = true;
    });
  }
})();
