// The scheduler form: show the fields of the chosen trigger, and preview the next runs as you type.
// A field the preview finds wrong gets its message under it, and the preview box says why it is empty.
(function () {
  "use strict";
  var form = document.getElementById("scheduler-form");
  if (!form) return;
  var trigger = document.getElementById("f-trigger_type");
  var list = document.getElementById("preview-list");
  var zoneNote = document.getElementById("preview-zone");
  var problem = document.getElementById("preview-problem");
  // The fields the preview sends: their input and the element for their message.
  var checked = {
    cron: { input: document.getElementById("f-cron"), error: document.getElementById("cron-error") },
    timezone: { input: document.getElementById("f-timezone"), error: document.getElementById("tz-error") },
    repeat_every_seconds: { input: document.getElementById("f-repeat_every_seconds"), error: document.getElementById("every-error") }
  };
  var timer = null;
  var latest = 0;  // only the answer to the newest request is shown
  var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

  // "2026-03-01T13:00:30+01:00" -> "Sun 2026-03-01 13:00", or "... 13:00:30" with `seconds`
  function wallTime(iso, seconds) {
    var day = new Date(iso.slice(0, 10) + "T00:00:00Z").getUTCDay();
    return days[day] + " " + iso.slice(0, 10) + " " + iso.slice(11, seconds ? 19 : 16);
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

  function labelOf(name) {
    return checked[name].input.labels[0].textContent.trim();
  }

  // {field: message} from the preview; fields without a message are cleared.
  function showErrors(errors) {
    Object.keys(checked).forEach(function (name) {
      var message = errors[name] || "";
      checked[name].error.textContent = message;
      checked[name].input.classList.toggle("is-invalid", Boolean(message));
      if (message) checked[name].input.setAttribute("aria-invalid", "true");
      else checked[name].input.removeAttribute("aria-invalid");
    });
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.classList.toggle("d-none", !text);
  }

  function showTimes(data) {
    // Seconds only when a time is not on a whole minute (a repeat every 30 s): cron times never are.
    var seconds = data.times.some(function (t) { return t.local.slice(17, 19) !== "00"; });
    data.times.forEach(function (t) {
      var item = document.createElement("li");
      var utc = t.utc.slice(0, 10) + " " + t.utc.slice(11, seconds ? 19 : 16);
      item.textContent = wallTime(t.local, seconds) + "  (" + utc + " UTC)";
      list.appendChild(item);
    });
    zoneNote.textContent = "Times in " + data.timezone + ", UTC in brackets.";
    showProblem(data.times.length ? "" : "No runs ahead: the expression never fires.");
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
      zoneNote.textContent = "";
      if (result.ok) {
        showErrors({});
        showTimes(result.data);
        return;
      }
      var details = Array.isArray(result.data.detail) ? result.data.detail : [{ loc: [], msg: String(result.data.detail) }];
      var errors = {};
      var reasons = [];
      details.forEach(function (detail) {
        var name = detail.loc[detail.loc.length - 1];
        if (checked[name] && !errors[name]) errors[name] = detail.msg;
        reasons.push((checked[name] ? labelOf(name) + ": " : "") + detail.msg);
      });
      showErrors(errors);
      showProblem("No runs to show. " + reasons.join("; "));
    });
  }

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  trigger.addEventListener("change", function () { showTriggerFields(); schedulePreview(); });
  Object.keys(checked).forEach(function (name) {
    checked[name].input.addEventListener("input", schedulePreview);
  });
  showTriggerFields();
  preview();
})();
