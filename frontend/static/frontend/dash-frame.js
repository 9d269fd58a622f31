// Size every Dash iframe (data-autoheight) to the height of what the app rendered, and keep it sized as
// callbacks add or remove content: no fixed heights, no empty space below a table, no inner scrollbar.
(function () {
  "use strict";
  function fit(frame) {
    var doc = frame.contentDocument;
    if (!doc || !doc.body) { return; }
    var height = Math.ceil(doc.body.getBoundingClientRect().height);
    if (height > 0) { frame.style.height = height + "px"; }
  }
  function watch(frame) {
    function attach() {
      var doc = frame.contentDocument;
      if (!doc || !doc.body) { return; }
      fit(frame);
      if (frame._arenaObserver) { frame._arenaObserver.disconnect(); }
      frame._arenaObserver = new ResizeObserver(function () { fit(frame); });
      frame._arenaObserver.observe(doc.body);
    }
    frame.addEventListener("load", attach);
    attach();
  }
  function start() { document.querySelectorAll("iframe[data-autoheight]").forEach(watch); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
