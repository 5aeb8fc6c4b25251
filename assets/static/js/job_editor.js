// The job editor (jobs/_editor.html) on /jobs/new and in the scheduler form: the chosen type's
// section, the script's description, and the JSON view kept in sync with the fields both ways.
// The hidden `source` field tells the server (web/job_form.py) which one was edited last: that one
// is saved. JSON the fields cannot show stays in charge: a value no option has until a field is
// edited, a key without a field (`meta`) for good, kept in the JSON as the fields change.
(function () {
  "use strict";

  function parseEnv(text) {  // as web/job_form.py parse_env
    var env = {};
    text.split("\n").forEach(function (line) {
      if (!line.trim()) return;
      var at = line.indexOf("=");
      if (at < 0) throw new Error("'" + line.trim() + "' is not NAME=value");
      env[line.slice(0, at).trim()] = line.slice(at + 1);
    });
    return env;
  }

  function envText(env) {
    return Object.keys(env).map(function (name) { return name + "=" + env[name]; }).join("\n");
  }

  function editor(root) {
    var type = root.querySelector("[data-spec=type]");
    var json = root.querySelector("[data-job-json]");
    var source = root.querySelector("[data-job-source]");
    var status = root.querySelector("[data-job-json-status]");
    var script = root.querySelector("[data-script-picker]");
    var description = root.querySelector("[data-script-description]");
    var kept = {};  // the JSON's keys that no field shows, kept as the fields are edited

    function showSection() {
      root.querySelectorAll("fieldset[data-job-type]").forEach(function (section) {
        var chosen = section.getAttribute("data-job-type") === type.value;
        section.hidden = !chosen;
        section.disabled = !chosen;  // hidden fields are not sent (the server would ignore them anyway)
      });
    }

    // The chosen script: its description, and its input form (the others are not sent).
    function describe() {
      var option = script.selectedOptions[0];
      description.textContent = option ? option.getAttribute("data-description") : "";
      root.querySelectorAll("fieldset[data-script-form]").forEach(function (form) {
        var chosen = form.getAttribute("data-script-form") === script.value;
        form.hidden = !chosen;
        form.disabled = !chosen;
      });
    }

    function inputFields() {
      var form = Array.prototype.find.call(root.querySelectorAll("fieldset[data-script-form]"), function (candidate) {
        return candidate.getAttribute("data-script-form") === script.value;
      });
      return form ? Array.prototype.slice.call(form.querySelectorAll("[data-input]")) : [];
    }

    // The fields of the chosen type, in the order the form shows them.
    function fields() {
      return Array.prototype.filter.call(root.querySelectorAll("[data-spec]"), function (field) {
        var section = field.closest("fieldset[data-job-type]");
        return !section || section.getAttribute("data-job-type") === type.value;
      });
    }

    // The field's part of the spec; undefined: left out (empty, or still its default, as
    // web/job_form.py leaves it out).
    function value(field) {
      var kind = field.getAttribute("data-kind");
      var fallback = field.getAttribute("data-default");
      if (kind === "checkbox") return field.checked === (fallback === "on") ? undefined : field.checked;
      var raw = field.value.trim();
      if (!raw) return undefined;
      if (kind === "json") {
        var parsed = JSON.parse(raw);
        return fallback && JSON.stringify(parsed) === JSON.stringify(JSON.parse(fallback)) ? undefined : parsed;
      }
      if (kind === "env") return parseEnv(field.value);
      if (kind === "number") {
        var number = Number(raw);
        if (!isFinite(number)) return raw;
        return fallback && number === Number(fallback) ? undefined : number;
      }
      return field.value === fallback ? undefined : field.value;
    }

    function scriptInput() {
      var input = {};
      inputFields().forEach(function (field) {
        var part = value(field);
        if (part !== undefined) input[field.getAttribute("data-input")] = part;
      });
      return input;
    }

    function labelOf(field) {
      return field.labels.length ? field.labels[0].textContent.replace(/\s*\*\s*$/, "").trim() : field.name;
    }

    function fieldsToJson() {
      var broken = null;
      fields().concat(inputFields()).forEach(function (field) {
        try {
          value(field);
        } catch (error) {
          broken = broken || labelOf(field) + ": " + error.message;
        }
      });
      if (broken) {
        status.textContent = "The JSON follows once this is fixed: " + broken;
        return;
      }
      var spec = {};
      fields().forEach(function (field) {
        var name = field.getAttribute("data-spec");
        var part = value(field);
        if (part !== undefined) spec[name] = part;
        if (name === "script" && Object.keys(scriptInput()).length) spec.input = scriptInput();
      });
      var keeps = Object.keys(kept);
      keeps.forEach(function (name) { spec[name] = kept[name]; });
      json.value = JSON.stringify(spec, null, 2);
      // Keys without a field live in the JSON only: it stays what is saved.
      if (keeps.length) source.value = "json";
      status.textContent = keeps.length ? "Kept from the JSON: " + keeps.join(", ") + "." : "";
    }

    // Show one value of the JSON in its field; false when the field cannot hold it as it is.
    function set(field, part) {
      var kind = field.getAttribute("data-kind");
      if (kind === "checkbox") {
        field.checked = part === undefined ? field.getAttribute("data-default") === "on" : Boolean(part);
        return part === undefined || typeof part === "boolean";
      }
      if (part === undefined) {
        field.value = field.getAttribute("data-default") || "";
        return true;
      }
      if (kind === "json") {
        field.value = JSON.stringify(part, null, 2);
        return true;
      }
      if (kind === "env") {
        var mapping = part !== null && typeof part === "object" && !Array.isArray(part);
        field.value = mapping ? envText(part) : "";
        return mapping;
      }
      field.value = String(part);
      return field.value === String(part) && typeof part === (kind === "number" ? "number" : "string");
    }

    function jsonToFields() {
      var spec;
      try {
        spec = JSON.parse(json.value);
      } catch (error) {
        status.textContent = "Not valid JSON yet: " + error.message;
        return;
      }
      if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
        status.textContent = "The job is a JSON object, {...}.";
        return;
      }
      if (!set(type, spec.type)) {
        status.textContent = "The fields cannot show the type " + JSON.stringify(spec.type) + ": the JSON is saved as it is.";
        return;
      }
      showSection();
      describe();
      var shown = {};
      var unshown = [];
      fields().forEach(function (field) {
        var name = field.getAttribute("data-spec");
        shown[name] = true;
        if (name !== "type" && !set(field, spec[name])) unshown.push(name);
      });
      if (type.value === "script") {
        describe();
        shown.input = true;
        var given = spec.input && typeof spec.input === "object" ? spec.input : {};
        var known = {};
        inputFields().forEach(function (field) {
          var name = field.getAttribute("data-input");
          known[name] = true;
          if (!set(field, given[name])) unshown.push("input." + name);
        });
        Object.keys(given).forEach(function (name) { if (!known[name]) unshown.push("input." + name); });
      }
      kept = {};
      Object.keys(spec).forEach(function (name) {
        if (shown[name]) return;
        kept[name] = spec[name];
        unshown.push(name);
      });
      status.textContent = unshown.length ?
        "The fields cannot show " + unshown.join(", ") + ": the JSON is saved as it is." : "";
    }

    type.addEventListener("change", showSection);
    script.addEventListener("change", describe);
    showSection();
    describe();
    if (!json) return;
    json.readOnly = false;  // without this script the JSON view is read-only (web/job_form.py)
    if (source.value === "json") jsonToFields();  // says what the fields cannot show
    root.addEventListener("input", function (event) {
      if (event.target === json) {
        source.value = "json";
        jsonToFields();
      } else if (event.target.hasAttribute("data-spec") || event.target.hasAttribute("data-input")) {
        source.value = "editor";
        fieldsToJson();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-editor]").forEach(editor);
  });
})();
