// The scheduler form: show the fields of the chosen trigger, and preview the next runs as you type.
(function () {
  "use strict";
  var form = document.getElementById("scheduler-form");
  if (!form) return;
  var trigger = document.getElementById("f-trigger");
  var list = document.getElementById("preview-list");
  var zoneNote = document.getElementById("preview-zone");
  var cronError = document.getElementById("cron-error");
  var cronInput = document.getElementById("f-cron");
  var timer = null;
  var latest = 0;  // only the answer to the newest request is shown
  var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

  function wallTime(iso) {  // "2026-03-01T13:00:00+01:00" -> "Sun 2026-03-01 13:00"
    var day = new Date(iso.slice(0, 10) + "T00:00:00Z").getUTCDay();
    return days[day] + " " + iso.slice(0, 10) + " " + iso.slice(11, 16);
  }

  function csrf() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function showTriggerFields() {
    document.querySelectorAll("[data-trigger]").forEach(function (el) {
      el.classList.toggle("d-none", el.getAttribute("data-trigger").split(" ").indexOf(trigger.value) < 0);
    });
  }

  function setError(message) {
    cronError.textContent = message;
    cronInput.classList.toggle("is-invalid", Boolean(message));
  }

  function preview() {
    if (trigger.value === "on_start") return;
    var ticket = ++latest;
    var body = { trigger_type: trigger.value, timezone: form.timezone.value || null, count: 5 };
    if (trigger.value === "cron") body.cron = form.cron.value;
    if (trigger.value === "repeat") body.repeat_every_seconds = form.repeat_every_seconds.value ? Number(form.repeat_every_seconds.value) : null;
    fetch("/api/v1/job-schedulers/preview", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (ticket !== latest) return;
      list.textContent = "";
      if (!result.ok) {
        var detail = Array.isArray(result.data.detail) ? result.data.detail[0] : { msg: String(result.data.detail) };
        setError(detail.msg);
        zoneNote.textContent = "";
        return;
      }
      setError("");
      result.data.times.forEach(function (t) {
        var item = document.createElement("li");
        item.textContent = wallTime(t.local) + "  (" + t.utc.slice(0, 10) + " " + t.utc.slice(11, 16) + " UTC)";
        list.appendChild(item);
      });
      zoneNote.textContent = "Times in " + result.data.timezone + ", UTC in brackets.";
    });
  }

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  trigger.addEventListener("change", function () { showTriggerFields(); schedulePreview(); });
  ["f-cron", "f-every", "f-tz"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", schedulePreview);
  });
  showTriggerFields();
  preview();
})();
