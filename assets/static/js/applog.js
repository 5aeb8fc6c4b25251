// The app log viewer: poll /logs/tail every 2 s from the last offset, append the new lines (as text,
// never as HTML), follow the end unless the reader scrolled up, start over after a rotation.
(function () {
  "use strict";
  var box = document.getElementById("app-log");
  if (!box) return;
  var status = document.getElementById("log-status");
  var filter = document.getElementById("log-level");
  var POLL_MS = 2000;
  var MAX_LINES = 10000; // keeps a page left open for days from growing without bound
  var RANKS = { TRACE: 0, DEBUG: 1, INFO: 2, SUCCESS: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };
  var LEVEL = /^\S+ \S+ \| (TRACE|DEBUG|INFO|SUCCESS|WARNING|ERROR|CRITICAL)\s*\|/;
  var offset = null, file = null, lastLevel = "INFO";

  function nearBottom() {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  }

  function applyFilter() {
    var min = RANKS[filter.value] || 0;
    box.querySelectorAll(".vc-log-line").forEach(function (line) {
      line.hidden = RANKS[line.getAttribute("data-level")] < min;
    });
  }

  function append(lines) {
    var min = RANKS[filter.value] || 0;
    var fragment = document.createDocumentFragment();
    lines.forEach(function (text) {
      var match = LEVEL.exec(text);
      // A traceback's lines carry no level: they belong to the record above them.
      if (match) lastLevel = match[1];
      var line = document.createElement("div");
      line.className = "vc-log-line vc-level-" + lastLevel.toLowerCase();
      line.setAttribute("data-level", lastLevel);
      line.textContent = text;
      line.hidden = RANKS[lastLevel] < min;
      fragment.appendChild(line);
    });
    box.appendChild(fragment);
    while (box.childElementCount > MAX_LINES) box.removeChild(box.firstElementChild);
  }

  function poll() {
    var url = box.getAttribute("data-tail-url");
    if (offset !== null) url += "?offset=" + offset + "&file=" + encodeURIComponent(file);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (chunk) {
        var follow = nearBottom();
        if (chunk.reset) { box.textContent = ""; lastLevel = "INFO"; }
        append(chunk.lines);
        offset = chunk.offset;
        file = chunk.file_id;
        if (follow || chunk.reset) box.scrollTop = box.scrollHeight;
        status.textContent = "Live · updated " + new Date().toLocaleTimeString();
      })
      .catch(function (error) {
        status.textContent = "Could not update (" + error.message + "); retrying";
      })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  filter.addEventListener("change", applyFilter);
  poll();
})();
