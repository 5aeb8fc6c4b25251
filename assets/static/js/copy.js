// <button data-copy="#field"> copies the field's value (the new API key) to the clipboard.
(function () {
  "use strict";
  function say(text) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = text;
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field) return;
      field.select();
      // The clipboard API needs a secure context (https or localhost); elsewhere the old command still works.
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(field.value)
        : Promise.resolve(document.execCommand("copy")).then(function (ok) { if (!ok) throw new Error("copy refused"); });
      copied.then(function () { say("Copied to the clipboard."); button.textContent = "Copied"; },
                  function () { say("Could not copy: select the key and copy it by hand."); });
    });
  });
})();
