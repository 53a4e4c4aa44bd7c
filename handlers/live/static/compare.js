// A comparison: one column per candidate (state, figures, verdict, diff, Pick), and the
// diff between two of them.
(() => {
  "use strict";
  const R = window.Repobox;
  const el = R.el;
  const pane = document.getElementById("compare");
  const columnsBox = document.getElementById("columns");
  const betweenBox = document.getElementById("between-box");
  const [selectA, selectB] = [document.getElementById("between-a"), document.getElementById("between-b")];
  const columns = new Map(); // candidate number -> {col, badge, step, chips, verdict, diff, pick}
  const STATES = { started: "running", result: "done", error: "failed", cancelled: "cancelled" };
  const TONES = { running: "info running", done: "ok", failed: "err", cancelled: "warn", queued: "" };
  let comparing = null; // the comparison's prompt id
  let between = {};

  function setBadge(badge, state) {
    badge.className = `chip ${TONES[state] || ""} badge`;
    badge.replaceChildren(el("span", "dot"), el("span", null, state));
    badge.firstChild.setAttribute("aria-hidden", "true");
  }

  function columnFor(promptId, number, label) {
    if (comparing !== promptId) { // a new comparison replaces the last one's columns
      comparing = promptId;
      columns.clear();
      columnsBox.replaceChildren();
      betweenBox.hidden = true;
      const info = R.promptInfo.get(promptId);
      document.getElementById("compare-note").textContent = info ? info.text.split("\n")[0] : "";
    }
    pane.hidden = false;
    let column = columns.get(number);
    if (column) return column;
    const col = el("article", "column");
    col.dataset.candidate = String(number);
    const head = col.appendChild(el("header", "column-head"));
    head.appendChild(el("span", "seq", `#${number}`));
    head.appendChild(el("strong", "label", label || `candidate ${number}`));
    const badge = head.appendChild(el("span"));
    setBadge(badge, "queued");
    column = {
      col, badge,
      step: el("p", "step muted", "waiting"),
      chips: el("p", "chips"),
      verdict: el("p", "verdict"),
      diff: el("div", "diff candidate-diff"),
      pick: null,
    };
    col.append(column.step, column.chips, column.verdict);
    if (R.snapshot.actions) {
      const pick = el("button", "pick", "");
      pick.type = "button";
      pick.append(R.icon("check"), el("span", null, `Pick #${number}`));
      pick.setAttribute("aria-label", `Pick candidate ${number}, ${label || ""}`.trim());
      pick.disabled = true; // until its run is done
      pick.addEventListener("click", () => R.act && R.act("pick", { number: String(number) }, pick));
      column.pick = col.appendChild(pick);
    }
    column.diff.tabIndex = 0; // it scrolls: keyboard users reach it too
    column.diff.setAttribute("aria-label", `Changes of candidate ${number}`);
    col.appendChild(column.diff);
    const later = [...columns.keys()].filter((n) => n > number).sort((a, b) => a - b)[0];
    columnsBox.insertBefore(col, later ? columns.get(later).col : null);
    columns.set(number, column);
    return column;
  }

  function onCandidateEvent(event) {
    const d = event.data || {};
    const column = columnFor(event.prompt, d.candidate, d.label);
    const state = STATES[event.kind];
    if (state) {
      setBadge(column.badge, state);
      if (column.pick) column.pick.disabled = state !== "done";
    }
    const shown = event.line || { text: event.text, chips: [] };
    if (shown.text && event.kind !== "step") column.step.textContent = shown.text.split("\n")[0];
    else if (shown.text) column.step.textContent = R.marked(shown.text.split("\n")[0]).text;
    if (shown.chips && shown.chips.length) {
      column.chips.replaceChildren(...shown.chips.map((c) => el("span", "chip", c)));
    }
  }

  function setVerdict(column, text) {
    const marked = R.marked(text || "");
    column.verdict.replaceChildren();
    if (!marked.text) return;
    const chip = column.verdict.appendChild(el("span", `chip ${marked.tone || ""}`));
    if (marked.icon) chip.appendChild(R.icon(marked.icon));
    chip.appendChild(el("span", null, marked.text));
  }

  function onComparisonEnd(event) {
    const compared = (event.data || {}).comparison;
    for (const c of compared.candidates || []) {
      const column = columnFor(event.prompt, c.number, c.label);
      setVerdict(column, c.verdict);
      column.col.classList.toggle("picked", compared.picked === c.number);
    }
  }

  function onPicked(number) {
    for (const [n, column] of columns) {
      column.col.classList.toggle("picked", n === number);
      if (column.pick) column.pick.hidden = true;
    }
    if (columns.has(number)) {
      document.getElementById("compare-note").textContent = `candidate ${number} was picked`;
    }
  }

  R.on("event", (event) => {
    const d = event.data || {};
    if (Number.isInteger(d.candidate)) onCandidateEvent(event);
    else if (d.comparison) onComparisonEnd(event);
    else if (Number.isInteger(d.picked)) onPicked(d.picked);
  });

  R.on("comparison", (record) => {
    if (!record.prompt_id) { // picked from or discarded: their workdirs are gone
      for (const column of columns.values()) {
        column.diff.replaceChildren();
        if (column.pick) column.pick.hidden = true;
      }
      betweenBox.hidden = true;
      return;
    }
    for (const c of record.candidates || []) {
      const column = columnFor(record.prompt_id, c.number, c.label);
      R.renderPatch(column.diff, c.patch || "", {
        truncated: c.truncated, empty: "No changes.", prefix: `cand-${c.number}` });
    }
    between = record.between || {};
    const numbers = (record.candidates || []).map((c) => c.number);
    for (const select of [selectA, selectB]) {
      select.replaceChildren(...numbers.map((n) => {
        const option = el("option", null, `#${n}`);
        option.value = String(n);
        return option;
      }));
    }
    if (numbers.length > 1) {
      selectA.value = String(numbers[0]);
      selectB.value = String(numbers[1]);
      betweenBox.hidden = false;
      showBetween();
    }
  });

  function showBetween() {
    const a = Number(selectA.value);
    const b = Number(selectB.value);
    const target = document.getElementById("between");
    if (a === b) {
      target.replaceChildren(el("p", "empty", "Pick two different candidates."));
      return;
    }
    const patch = between[`${Math.min(a, b)}-${Math.max(a, b)}`];
    const direction = a < b ? "" : " (shown from the lower number to the higher)";
    R.renderPatch(target, patch || "", { empty: `No difference${direction}.`, prefix: "between" });
  }
  selectA.addEventListener("change", showBetween);
  selectB.addEventListener("change", showBetween);
})();
