// Shared behaviour of every page: the theme toggle and confirmations. No inline scripts (CSP).
(function () {
  "use strict";
  var order = ["auto", "light", "dark"];
  var labels = { auto: "Auto", light: "Light", dark: "Dark" };

  function apply(theme) {
    var dark = theme === "dark" || (theme === "auto" && window.matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
    document.documentElement.setAttribute("data-vc-theme", theme);
    var button = document.getElementById("theme-toggle");
    if (button) {
      button.querySelector(".vc-theme-label").textContent = labels[theme];
      button.title = "Theme: " + labels[theme];
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    apply(localStorage.getItem("vc-theme") || "auto");
    var button = document.getElementById("theme-toggle");
    if (button) {
      button.addEventListener("click", function () {
        var current = localStorage.getItem("vc-theme") || "auto";
        var next = order[(order.indexOf(current) + 1) % order.length];
        localStorage.setItem("vc-theme", next);
        apply(next);
      });
    }
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
    apply(localStorage.getItem("vc-theme") || "auto");
  });
})();

// <form data-confirm="Delete this job?"> asks before submitting. Delegated, so forms a page draws
// later (live regions) ask too; registered before the loading indicator, which checks defaultPrevented.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// Forms with data-loading-target show that element while the server works.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var selector = form.getAttribute && form.getAttribute("data-loading-target");
  if (selector && !event.defaultPrevented) {
    var box = document.querySelector(selector);
    if (box) box.classList.remove("d-none");
  }
});
