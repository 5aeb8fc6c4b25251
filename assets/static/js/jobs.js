// The live parts of the job pages (/jobs, /jobs/{id}; the new-job form has job_editor.js). The server
// renders every page complete; this script keeps it current over the WebSocket /api/v1/ws/job-queue:
// - regions marked data-refresh are re-read from the server when a job they show changes, so rows,
//   badges and actions are rendered by one template only;
// - the job page streams its log: the stored part over HTTP, new lines as the socket pushes them.
(function () {
  "use strict";

  // -- the socket: reconnects with backoff; `onOpen(send, reconnected)` runs after every connect -------
  function liveSocket(onMessage, onOpen) {
    var delay = 500;
    var socket = null;
    var opened = false;
    function send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    }
    function open() {
      var scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(scheme + "//" + location.host + "/api/v1/ws/job-queue");
      socket.addEventListener("open", function () {
        delay = 500;
        onOpen(send, opened);
        opened = true;
      });
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        onMessage(message);
      });
      socket.addEventListener("close", function (event) {
        // The server closed it because this login ended (4401) or its rights changed (4403): the page
        // loads again, which leads to the login page or shows what the new rights allow.
        if (event.code === 4401 || event.code === 4403) {
          location.reload();
          return;
        }
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      });
    }
    open();
    return send;
  }

  // -- server-rendered regions, fetched again when something in them changed ---------------------------
  function refresher() {
    var timer = null;
    var busy = false;
    var again = false;
    function swap(html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      var focused = document.activeElement && document.activeElement.id;
      // Jobs ticked for "Delete selected" stay ticked across the redraw.
      var ticked = Array.prototype.map.call(document.querySelectorAll("input[name=ids]:checked"),
                                            function (box) { return box.value; });
      document.querySelectorAll("[data-refresh][id]").forEach(function (region) {
        var replacement = fresh.getElementById(region.id);
        if (replacement) region.replaceWith(replacement);
      });
      ticked.forEach(function (id) {
        var box = document.getElementById("select-" + id);
        if (box) box.checked = true;
      });
      // Keyboard users keep their place when the row they are on is redrawn.
      var target = focused && document.getElementById(focused);
      if (target && target !== document.activeElement) target.focus();
      tick();
    }
    function run() {
      timer = null;
      if (busy) { again = true; return; }
      busy = true;
      // X-Vc-Fragment: leave flash messages for the next real page (web/flash.py).
      fetch(location.pathname + location.search, {
        credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html", "X-Vc-Fragment": "1" }
      }).then(function (response) {
        return response.ok ? response.text().then(swap) : null;
      }).catch(function () { /* offline for a moment: the next change or reconnect tries again */ })
        .then(function () {
          busy = false;
          if (again) { again = false; schedule(); }
        });
    }
    // Many changes in a burst (a batch of jobs finishing) cost one fetch.
    function schedule() {
      if (timer === null) timer = setTimeout(run, 150);
    }
    return schedule;
  }

  // -- durations of running jobs tick without the server -------------------------------------------------
  function formatDuration(seconds) {  // as the `duration` filter in web/templating.py
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + pad(Math.floor(seconds % 60)) + " s";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + pad(Math.floor((seconds % 3600) / 60)) + " min";
    return Math.floor(seconds / 86400) + " d " + pad(Math.floor((seconds % 86400) / 3600)) + " h";
  }

  function tick() {
    document.querySelectorAll("[data-field=duration][data-started]").forEach(function (element) {
      var started = element.getAttribute("data-started");
      if (started && !element.getAttribute("data-finished")) {
        element.textContent = formatDuration(Math.max(Date.now() - Date.parse(started), 0) / 1000);
      }
    });
  }

  // -- /jobs -------------------------------------------------------------------------------------------
  function jobsList() {
    var refresh = refresher();
    function region() { return document.getElementById("jobs-list"); }
    function row(id) { return region().querySelector('tr[data-job-id="' + id + '"]'); }
    function newest() {
      var first = region().querySelector("tr[data-job-id]");
      return first ? Number(first.getAttribute("data-job-id")) : 0;
    }
    // A change matters when it is on this page, or is a new job on the first page (the server
    // applies the filters when it renders the page again).
    function matters(job, compare) {
      var shown = row(job.id);
      if (shown) {
        return !compare || job.deleted || shown.getAttribute("data-status") !== job.status ||
          shown.getAttribute("data-attempt") !== String(job.attempt) ||
          shown.getAttribute("data-stopping") !== (job.stopping ? "yes" : "");
      }
      return !job.deleted && region().getAttribute("data-offset") === "0" && job.id > newest();
    }
    liveSocket(function (message) {
      if (message.job && matters(message.job, false)) refresh();
      // Snapshots come on connect and after changes: only a difference from the page counts.
      if (message.jobs && message.jobs.some(function (job) { return matters(job, true); })) refresh();
    }, function (_send, reconnected) {
      if (reconnected) refresh();  // changes while the socket was down were never pushed
    });
  }

  // -- /jobs/{id}: status and the live log --------------------------------------------------------------
  var LOG_MAX_LINES = 20000;  // older lines leave the page (not the file) so a chatty job cannot exhaust memory
  var STAMP = /^((\d{4}-\d\d-\d\d)T([\d:.]+)Z )/;
  var encoder = new TextEncoder();

  // A script's ctx.progress() writes "##vcore-progress {json}" to its log (scripts/base.py): the
  // latest one drives the progress bar instead of showing as a line.
  var PROGRESS = "##vcore-progress ";

  function showProgress(line) {
    var at = line.indexOf(PROGRESS);
    if (at < 0 || !STAMP.test(line) && at !== 0) return false;
    var report;
    try { report = JSON.parse(line.slice(at + PROGRESS.length)); } catch (error) { return false; }
    var percent = Math.max(0, Math.min(100, Number(report.percent) || 0));
    var box = document.getElementById("job-progress");
    var bar = document.getElementById("job-progress-bar");
    if (!box || !bar) return true;
    box.hidden = false;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = percent + "%";
    document.getElementById("job-progress-percent").textContent = Math.round(percent) + " %";
    document.getElementById("job-progress-message").textContent = report.message || "";
    return true;
  }

  function logView(jobId, start) {
    var box = document.getElementById("job-log");
    var follow = document.getElementById("log-follow");
    var ansi = new window.vcAnsi.Renderer();
    // `next`: the byte offset where the lines we have end. A tail view starts mid-line: read from one
    // byte earlier and drop through the first newline, which keeps a line that starts at `start`.
    var next = start;
    var partial = start > 0;
    var fetching = false;
    var again = false;
    var queued = [];
    var syncing = true;  // after a read, pushed lines may overlap what it returned
    var sticky = true;   // follow new lines until the reader scrolls up

    box.addEventListener("scroll", function () {
      sticky = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
      follow.hidden = sticky;
    });
    follow.addEventListener("click", function () {
      sticky = true;
      follow.hidden = true;
      box.scrollTop = box.scrollHeight;
    });

    function append(lines) {
      var fragment = document.createDocumentFragment();
      lines.forEach(function (line) {
        if (showProgress(line)) return;
        var element = document.createElement("div");
        element.className = "vc-log-line";
        // Each line starts with its UTC time of writing: show the time of day, the date on hover.
        var stamp = STAMP.exec(line);
        if (stamp) {
          var time = document.createElement("span");
          time.className = "vc-log-time";
          time.title = stamp[2] + " " + stamp[3] + " UTC";
          time.textContent = stamp[3] + " ";
          element.appendChild(time);
          line = line.slice(stamp[1].length);
        }
        ansi.render(element, line);
        fragment.appendChild(element);
      });
      box.appendChild(fragment);
      while (box.childElementCount > LOG_MAX_LINES) box.removeChild(box.firstElementChild);
      if (sticky) box.scrollTop = box.scrollHeight;
    }

    function bytes(lines) {
      return lines.reduce(function (total, line) { return total + encoder.encode(line).length + 1; }, 0);
    }

    // Read the stored log from `next` to its current end; pushed lines wait meanwhile.
    function load() {
      if (fetching) { again = true; return; }
      fetching = true;
      var from = partial ? next - 1 : next;
      fetch("/api/v1/jobs/" + jobId + "/log?offset=" + from, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("log read failed: " + response.status);
          var size = Number(response.headers.get("X-Log-Size"));
          return response.text().then(function (text) {
            if (partial) {
              partial = false;
              text = text.slice(text.indexOf("\n") + 1);
            }
            var lines = text.split("\n");
            if (lines[lines.length - 1] === "") lines.pop();
            append(lines);
            next = size;
            syncing = true;
          });
        })
        .catch(function () { /* kept what we have; the next (re)subscription reads again */ })
        .then(function () {
          fetching = false;
          if (again) { again = false; load(); return; }
          var waiting = queued;
          queued = [];
          waiting.forEach(pushed);
        });
    }

    function pushed(log) {
      if (fetching) { queued.push(log); return; }
      if (log.offset < next && syncing) return;  // the read already returned these lines
      if (log.offset > next) {  // lines were dropped on the way (a slow connection): read the gap
        queued.push(log);
        load();
        return;
      }
      // In order; or, after a read, going backwards: the capped log was compacted (jobs/logs.py).
      syncing = false;
      append(log.lines);
      next = log.offset + bytes(log.lines);
    }

    load();
    return { pushed: pushed, load: load };
  }

  function jobPage(page) {
    var jobId = Number(page.getAttribute("data-job-id"));
    var refresh = refresher();
    var log = logView(jobId, Number(page.getAttribute("data-log-start")));
    function differs(job) {
      var status = document.getElementById("job-status");
      return status.getAttribute("data-status") !== job.status ||
        status.getAttribute("data-attempt") !== String(job.attempt) ||
        status.getAttribute("data-stopping") !== (job.stopping ? "yes" : "");
    }
    liveSocket(function (message) {
      if (message.job && message.job.id === jobId) {
        if (message.job.deleted) {
          document.getElementById("job-deleted").hidden = false;
        } else {
          refresh();
        }
      }
      if (message.jobs && message.jobs.some(function (job) { return job.id === jobId && differs(job); })) refresh();
      if (message.log && message.log.job_id === jobId) log.pushed(message.log);
      // Subscribed (again, after a reconnect): read what was written while we were not.
      if (message.subscribed_log === jobId) log.load();
    }, function (send, reconnected) {
      send({ subscribe_log: jobId });
      if (reconnected) refresh();  // changes while the socket was down were never pushed
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.getElementById("job-page");
    if (page) jobPage(page);
    if (document.getElementById("jobs-list")) jobsList();
    tick();
    setInterval(tick, 1000);
  });
})();
