// The checks panel and the comparison's columns, fed by session.js's events.
(() => {
  "use strict";
  const R = window.Repobox;
  const el = R.el;

  // Verdicts start with an emoji (bot/checks/results.py); not every machine has the font,
  // so the page shows an SVG icon in its place.
  const MARKS = [
    [/^✅\uFE0F?\s*/u, "ok", "check"],
    [/^❌\uFE0F?\s*/u, "err", "x"],
    [/^(⚠️|⚠|⏱️|⏱)\uFE0F?\s*/u, "warn", "alert"],
    [/^(⏳|⏭️|⏭|⏹️|⏹)\uFE0F?\s*/u, "", "clock"],
  ];
  const ICONS = new Map([
    ["✅", ["ok", "check"]], ["❌", ["err", "x"]], ["⚠", ["warn", "alert"]], ["⏱", ["warn", "clock"]],
    ["⏳", ["muted", "clock"]], ["⏭", ["muted", "clock"]], ["⏹", ["warn", "stop"]],
  ]);
  const ANY_MARK = /(✅|❌|⚠|⏱|⏳|⏭|⏹)\uFE0F?/u;
  // `text` into `parent`, each of those emoji (anywhere in it) drawn as an SVG icon.
  R.richText = (parent, text) => {
    for (const part of text.split(ANY_MARK)) {
      const mark = ICONS.get(part);
      if (mark) parent.appendChild(R.icon(mark[1])).classList.add(`tone-${mark[0]}`);
      else if (part) parent.appendChild(document.createTextNode(part));
    }
  };
  R.marked = (text) => {
    for (const [pattern, tone, icon] of MARKS) {
      if (pattern.test(text)) return { tone, icon, text: text.replace(pattern, "") };
    }
    return { tone: null, icon: null, text: text.replace(/^\p{Extended_Pictographic}\uFE0F?\s*/u, "") };
  };

  // ---- checks: one group per prompt, newest first, a row per check ------------------------
  const box = document.getElementById("checks");
  const summary = document.getElementById("checks-summary");
  const groups = new Map(); // prompt id -> {group, rows: Map(name -> row), results: Map}
  const STATUS = {
    passed: ["ok", "check", "passed"],
    failed: ["err", "x", "failed"],
    timed_out: ["err", "clock", "timed out"],
    error: ["warn", "alert", "could not run"],
    skipped: ["", "clock", "skipped"],
    cancelled: ["warn", "stop", "cancelled"],
    running: ["info running", null, "running"],
  };

  function groupFor(promptId) {
    let entry = groups.get(promptId);
    if (entry) return entry;
    const info = (R.promptInfo && R.promptInfo.get(promptId)) || {};
    const group = el("section", "check-group");
    const head = group.appendChild(el("h3", "check-prompt"));
    head.appendChild(el("span", "seq", info.seq ? `#${info.seq}` : "prompt"));
    head.appendChild(el("span", "ptext", (info.text || "").split("\n")[0]));
    const list = group.appendChild(el("ul", "check-list"));
    entry = { group, list, rows: new Map(), results: new Map() };
    groups.set(promptId, entry);
    const empty = box.querySelector(".empty");
    if (empty) empty.remove();
    box.insertBefore(group, box.firstChild); // the newest prompt on top
    return entry;
  }

  function onCheck(event) {
    const d = event.data;
    const entry = groupFor(event.prompt || "");
    const status = d.status || "running";
    const [tone, icon, word] = STATUS[status] || ["", "alert", status];
    let row = entry.rows.get(d.check);
    if (!row) {
      row = entry.list.appendChild(el("li", "check"));
      entry.rows.set(d.check, row);
    }
    row.dataset.status = status;
    const chip = el("span", `chip ${tone}`);
    if (icon) chip.appendChild(R.icon(icon));
    else chip.appendChild(el("span", "dot")).setAttribute("aria-hidden", "true");
    chip.appendChild(el("span", null, word));
    const line = el("div", "check-line");
    line.append(chip, el("span", "check-name", d.setup ? "setup" : d.check));
    if (d.required === false && !d.setup) line.appendChild(el("span", "chip", "optional"));
    if (typeof d.duration === "number") {
      line.appendChild(el("span", "muted duration", d.duration >= 0.1 ? `${d.duration.toFixed(1)} s` : "<0.1 s"));
    }
    const parts = [line];
    const output = d.output || d.tail;
    if (output) {
      const details = el("details", "check-output");
      details.open = status !== "passed" && status !== "skipped" && status !== "running";
      details.appendChild(el("summary", null, "Output"));
      details.appendChild(el("pre", null, output)).tabIndex = 0; // it may scroll
      parts.push(details);
    }
    row.replaceChildren(...parts);
    if (status !== "running") entry.results.set(d.check, d);
    refresh();
  }

  function refresh() {
    const latest = [...groups.values()].reverse().find((g) => g.results.size);
    if (!latest) return;
    const results = [...latest.results.values()].filter((d) => !d.setup);
    const failing = [...latest.results.values()].filter(
      (d) => (d.required !== false || d.setup) && !["passed", "skipped"].includes(d.status));
    const passed = results.filter((d) => d.status === "passed").length;
    summary.textContent = failing.length
      ? `${failing.length} failing on the latest prompt`
      : `${passed} of ${results.length} passed on the latest prompt`;
    R.checksFailing = failing.length > 0;
    R.emit("checks", { failing: R.checksFailing });
  }

  R.on("event", (event) => {
    if (event.kind === "step" && event.data && event.data.check && event.data.candidate === undefined) {
      onCheck(event);
    }
  });
  // A new run's checks decide again; until they report, the last verdict stands.
})();
