// Quick Tools that stream their answer ("Ask an LLM"): post the form with fetch and write the text
// into #qt-stream as it arrives, read from the response body chunk by chunk. No inline script (CSP);
// without JavaScript the form posts as usual and the page shows the whole answer.
(function () {
  "use strict";

  function detail(raw, status) {
    try {
      var parsed = JSON.parse(raw).detail;
      if (typeof parsed === "string") return parsed;
      if (Array.isArray(parsed)) {
        return parsed.map(function (item) { return item.loc[item.loc.length - 1] + ": " + item.msg; }).join("; ");
      }
    } catch (ignored) { /* not JSON: show the text */ }
    return raw || "HTTP " + status;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("qt-stream");
    var form = document.querySelector(".vc-quick-tool-form");
    if (!box || !form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
    var text = document.getElementById("qt-stream-text");
    var failure = document.getElementById("qt-stream-error");
    var busy = document.getElementById("qt-stream-busy");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ["qt-result", "qt-error"].forEach(function (id) {
        var old = document.getElementById(id);
        if (old) old.remove();
      });
      var body = new URLSearchParams(new FormData(form));
      var button = form.querySelector("[type=submit]");
      text.textContent = "";
      failure.classList.add("d-none");
      box.classList.remove("d-none");
      busy.classList.remove("d-none");
      button.disabled = true;
      fetch(box.getAttribute("data-stream-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": body.get("csrf_token") || "", "Accept": "text/plain" }
      }).then(function (response) {
        if (!response.ok) {
          return response.text().then(function (raw) { throw new Error(detail(raw, response.status)); });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        function pump() {
          return reader.read().then(function (part) {
            if (part.done) {
              text.textContent += decoder.decode();
              return;
            }
            text.textContent += decoder.decode(part.value, { stream: true });
            return pump();
          });
        }
        return pump();
      }).catch(function (error) {
        failure.textContent = error.message;
        failure.classList.remove("d-none");
        if (!text.textContent) box.classList.add("d-none");
      }).finally(function () {
        button.disabled = false;
        busy.classList.add("d-none");
      });
    });
  });
})();
