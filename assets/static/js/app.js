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
      button.title = (theme === "auto" ? "Auto follows the system setting" : labels[theme]) + "; click to switch";
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

// A form shown again with errors: a summary above it names every error, each a link to its field,
// and takes the focus, so a keyboard or screen-reader user hears what is wrong at once (each
// message also stays next to its field). A page may place the summary itself ([data-error-summary]).
document.addEventListener("DOMContentLoaded", function () {
  var errors = document.querySelectorAll("main [data-error-for]");
  if (!errors.length) return;
  var form = errors[0].closest("form");
  var summary = document.querySelector("main [data-error-summary]");
  if (!summary) {
    summary = document.createElement("div");
    summary.className = "alert alert-danger";
    summary.id = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("data-error-summary", "");
    (form || errors[0]).parentNode.insertBefore(summary, form || errors[0]);
  }
  summary.tabIndex = -1;
  summary.textContent = errors.length === 1 ? "Please correct this field:" : "Please correct these " + errors.length + " fields:";
  var list = document.createElement("ul");
  list.className = "mb-0 mt-1";
  errors.forEach(function (error) {
    var field = document.getElementById("f-" + error.getAttribute("data-error-for"));
    var label = field && field.labels && field.labels.length ? field.labels[0].textContent : error.getAttribute("data-error-for");
    var link = document.createElement("a");
    link.className = "alert-link";
    link.href = "#" + (field ? field.id : error.id);
    link.textContent = label.replace(/\s*\*\s*$/, "").trim() + ": " + error.textContent.trim();
    link.addEventListener("click", function (event) {
      if (!field) return;
      event.preventDefault();
      field.focus();
    });
    var item = document.createElement("li");
    item.appendChild(link);
    list.appendChild(item);
  });
  summary.appendChild(list);
  summary.focus();
});
