// ANSI SGR colours of job output as DOM nodes: text goes in only through text nodes (never as HTML),
// so output like "<script>" shows literally. Colours become classes (vc-ansi-red, vc-ansi-bg-blue,
// vc-ansi-bright-green, vc-ansi-bold, ...); the CSP forbids style attributes. 24-bit colours have no
// class and are dropped; other escape sequences (cursor moves, erase line) are removed.
(function () {
  "use strict";
  var NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
  // A CSI sequence: ESC [ parameters final-byte; SGR ends in "m".
  var CSI = /\x1b\[([0-9;:?]*)[ -\/]*([@-~])/g;

  function colour(index) {
    return index < 8 ? NAMES[index] : "bright-" + NAMES[index - 8];
  }

  function Renderer() {
    this.reset();
  }

  Renderer.prototype.reset = function () {
    this.fg = null;
    this.bg = null;
    this.flags = {};
  };

  // Apply one SGR parameter list ("1;31", "38;5;196", "" = reset); the state lasts across lines,
  // as in a terminal.
  Renderer.prototype.sgr = function (params) {
    var codes = params === "" ? [0] : params.split(/[;:]/).map(Number);
    for (var i = 0; i < codes.length; i++) {
      var code = codes[i];
      if (code === 0) this.reset();
      else if (code === 1) this.flags.bold = true;
      else if (code === 2) this.flags.dim = true;
      else if (code === 3) this.flags.italic = true;
      else if (code === 4) this.flags.underline = true;
      else if (code === 22) { this.flags.bold = false; this.flags.dim = false; }
      else if (code === 23) this.flags.italic = false;
      else if (code === 24) this.flags.underline = false;
      else if (code >= 30 && code <= 37) this.fg = colour(code - 30);
      else if (code === 39) this.fg = null;
      else if (code >= 40 && code <= 47) this.bg = colour(code - 40);
      else if (code === 49) this.bg = null;
      else if (code >= 90 && code <= 97) this.fg = colour(code - 90 + 8);
      else if (code >= 100 && code <= 107) this.bg = colour(code - 100 + 8);
      else if (code === 38 || code === 48) {
        // 256 colours (5;n): the first 16 are the named ones; 24-bit (2;r;g;b) is skipped.
        if (codes[i + 1] === 5) {
          var n = codes[i + 2];
          var name = n >= 0 && n < 16 ? colour(n) : null;
          if (code === 38) this.fg = name; else this.bg = name;
          i += 2;
        } else if (codes[i + 1] === 2) {
          i += 4;
        }
      }
    }
  };

  Renderer.prototype.classes = function () {
    var list = [];
    if (this.fg) list.push("vc-ansi-" + this.fg);
    if (this.bg) list.push("vc-ansi-bg-" + this.bg);
    for (var flag in this.flags) if (this.flags[flag]) list.push("vc-ansi-" + flag);
    return list.join(" ");
  };

  Renderer.prototype.text = function (parent, text) {
    if (!text) return;
    text = text.replace(/\x1b/g, "");  // a lone ESC that started no sequence
    var classes = this.classes();
    if (classes) {
      var span = document.createElement("span");
      span.className = classes;
      span.textContent = text;
      parent.appendChild(span);
    } else {
      parent.appendChild(document.createTextNode(text));
    }
  };

  // Append the text of `line`, coloured, to `parent`.
  Renderer.prototype.render = function (parent, line) {
    var last = 0;
    var match;
    CSI.lastIndex = 0;
    while ((match = CSI.exec(line)) !== null) {
      this.text(parent, line.slice(last, match.index));
      if (match[2] === "m") this.sgr(match[1]);
      last = CSI.lastIndex;
    }
    this.text(parent, line.slice(last));
  };

  window.vcAnsi = { Renderer: Renderer };
})();
