// Runs in <head> before the first paint: apply the saved theme (light, dark or auto).
(function () {
  var saved = localStorage.getItem("vc-theme") || "auto";
  var dark = saved === "dark" || (saved === "auto" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
  document.documentElement.setAttribute("data-vc-theme", saved);
})();
