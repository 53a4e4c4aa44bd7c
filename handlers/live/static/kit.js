// What the session page's scripts share: the snapshot, a node builder and a tiny event bus.
// Every text goes in through textContent, never innerHTML: it comes from agents and people
// (the one exception is diff2html's output in diff.js, which escapes what it renders).
(() => {
  "use strict";

  const handlers = new Map();
  const R = {
    snapshot: JSON.parse(document.getElementById("snapshot").textContent),

    el(tag, className, text) {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    },

    // An icon from the shared sprite (handlers/common/ui/static/icons.svg).
    icon(name) {
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "icon");
      svg.setAttribute("aria-hidden", "true");
      const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
      use.setAttribute("href", `/ui/static/icons.svg#${name}`);
      svg.appendChild(use);
      return svg;
    },

    webUrl(url) {
      return typeof url === "string" && /^https?:\/\//.test(url) ? url : null;
    },

    clock(at) {
      const d = new Date(at * 1000);
      return [d.getHours(), d.getMinutes(), d.getSeconds()]
        .map((n) => String(n).padStart(2, "0")).join(":");
    },

    // session.js says what happened ("state", "event", "diff", …); the panels listen.
    on(name, fn) {
      if (!handlers.has(name)) handlers.set(name, []);
      handlers.get(name).push(fn);
    },
    emit(name, data) {
      for (const fn of handlers.get(name) || []) fn(data);
    },
  };
  window.Repobox = R;
})();
