// The live session page: follows /sessions/{id}/events and draws the log and the diff.
// Every text goes in through textContent, never innerHTML: it comes from agents and people.
(() => {
  "use strict";

  const snapshot = JSON.parse(document.getElementById("snapshot").textContent);
  const logBox = document.getElementById("log");
  const followButton = document.getElementById("follow");
  const connBadge = document.getElementById("conn");
  const stateBadge = document.getElementById("state");
  const counts = { lines: 0, stderr: 0, errors: 0 };
  const promptInfo = new Map(snapshot.prompts.map((p) => [p.id, p]));
  const sections = new Map(); // prompt id -> {section, list, badge, text, who}
  let tail = null; // the last block appended, for events that belong to no prompt
  let lastId = null;
  let following = true;
  let unseen = 0;
  let source = null;
  let retryDelay = 1000;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function webUrl(url) {
    return typeof url === "string" && /^https?:\/\//.test(url) ? url : null;
  }

  function clock(at) {
    const d = new Date(at * 1000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()]
      .map((n) => String(n).padStart(2, "0")).join(":");
  }

  // Stream ids are "milliseconds-sequence"; compare them as numbers.
  function after(a, b) {
    const [am, as] = a.split("-").map(Number);
    const [bm, bs] = b.split("-").map(Number);
    return am > bm || (am === bm && (as || 0) > (bs || 0));
  }

  // ---- following the output -------------------------------------------------------
  function atBottom() {
    return logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 32;
  }

  function setFollowing(on) {
    following = on;
    if (on) unseen = 0;
    followButton.classList.toggle("on", on);
    followButton.setAttribute("aria-pressed", String(on));
    followButton.textContent = on ? "Following" : unseen ? `↓ Follow (${unseen} new)` : "↓ Follow";
  }

  let scrollPending = false;
  function scrollToEnd() {
    if (scrollPending) return;
    scrollPending = true;
    requestAnimationFrame(() => {
      scrollPending = false;
      if (following) logBox.scrollTop = logBox.scrollHeight;
    });
  }

  // Only the reader scrolls up (we only ever scroll down), so that is what stops following.
  let lastTop = 0;
  logBox.addEventListener("scroll", () => {
    const top = logBox.scrollTop;
    if (following && top < lastTop - 2) setFollowing(false);
    else if (!following && atBottom()) setFollowing(true);
    lastTop = top;
  });
  followButton.addEventListener("click", () => {
    setFollowing(true);
    logBox.scrollTop = logBox.scrollHeight;
  });

  // ---- prompts and their sections ---------------------------------------------------
  function fillHeader(entry, info) {
    entry.seq.textContent = info.action === "ship" ? "ship" : `#${info.seq}`;
    entry.text.textContent = info.text.split("\n")[0];
    entry.text.title = info.text;
    entry.who.textContent = info.author ? `by ${info.author}` : "";
    setPromptState(entry, info.state);
  }

  function setPromptState(entry, state) {
    if (!state) return;
    entry.badge.textContent = state;
    entry.badge.className = `badge small state-${state}`;
    entry.section.dataset.state = state;
  }

  function sectionFor(promptId) {
    if (!promptId) {
      if (!tail || tail.dataset.kind !== "session") {
        tail = el("section", "block session-block");
        tail.dataset.kind = "session";
        tail.appendChild(el("ol", "lines"));
        logBox.appendChild(tail);
      }
      return tail.querySelector("ol");
    }
    let entry = sections.get(promptId);
    if (!entry) {
      const section = el("section", "block prompt");
      section.dataset.prompt = promptId;
      const head = el("header", "prompt-head");
      entry = {
        section, head,
        seq: head.appendChild(el("span", "seq")),
        text: head.appendChild(el("span", "ptext")),
        who: head.appendChild(el("span", "who muted")),
        badge: head.appendChild(el("span", "badge small")),
        list: el("ol", "lines"),
      };
      section.append(head, entry.list);
      logBox.appendChild(section);
      sections.set(promptId, entry);
      fillHeader(entry, promptInfo.get(promptId) || { seq: "?", text: "", state: "" });
    }
    tail = entry.section;
    return entry.list;
  }

  function onPrompt(info) {
    promptInfo.set(info.id, info);
    const entry = sections.get(info.id);
    if (entry) fillHeader(entry, info);
  }

  // ---- one event, one line: the server sends how it reads (bot/progress/lines.py) ------
  function line(event) {
    const d = event.data || {};
    const shown = event.line || { tag: event.kind, text: event.text, chips: [], stderr: false };
    const li = el("li", `ev k-${event.kind}${shown.stderr ? " stderr" : ""}`);
    li.dataset.id = event.id;
    li.appendChild(el("time", "at", clock(event.at)));
    li.appendChild(el("span", "tag", shown.tag));
    if (shown.candidate) li.appendChild(el("span", "cand", shown.candidate));
    li.appendChild(el("span", "txt", shown.text));
    const url = event.kind === "shipped" ? webUrl(d.url) : null;
    if (url) {
      const a = el("a", "link", url);
      a.href = url;
      a.rel = "noreferrer";
      li.appendChild(a);
    }
    for (const chip of shown.chips) li.appendChild(el("span", "chip", chip));
    if (d.check && d.output) {  // a check's whole output (jobs/steps/checks.py), folded
      const details = el("details", "check-output");
      details.appendChild(el("summary", null, "output"));
      details.appendChild(el("pre", null, d.output));
      li.appendChild(details);
    }
    return li;
  }

  function apply(event) {
    if (event.kind === "state") {
      stateBadge.textContent = event.text;
      stateBadge.className = `badge state-${event.text}`;
    }
    if (event.kind === "shipped" && webUrl((event.data || {}).url)) {
      const mr = document.getElementById("mr");
      const a = el("a", null, event.data.url);
      a.href = event.data.url;
      a.rel = "noreferrer";
      mr.replaceChildren(a);
    }
    const entry = event.prompt ? sections.get(event.prompt) : null;
    if (entry && event.line && event.line.state) setPromptState(entry, event.line.state);
  }

  function onEvent(event) {
    if (lastId && !after(event.id, lastId)) return; // never show a line twice
    lastId = event.id;
    const empty = logBox.querySelector(".empty");
    if (empty) empty.remove();
    const list = sectionFor(event.prompt);
    list.appendChild(line(event));
    apply(event);
    if (event.data && Number.isInteger(event.data.candidate)) onCandidateEvent(event);
    else if (event.data && event.data.comparison) onComparisonEnd(event);
    else if (event.data && Number.isInteger(event.data.picked)) onPicked(event.data.picked);
    counts.lines += 1;
    if (event.line && event.line.stderr) counts.stderr += 1;
    if (event.kind === "error") counts.errors += 1;
    document.getElementById("counts").textContent =
      `${counts.lines} events` +
      (counts.stderr ? ` · ${counts.stderr} stderr` : "") +
      (counts.errors ? ` · ${counts.errors} error${counts.errors > 1 ? "s" : ""}` : "");
    if (following) scrollToEnd();
    else {
      unseen += 1;
      setFollowing(false);
    }
  }

  // ---- the diff -------------------------------------------------------------------------
  function splitFiles(patch) {
    const files = [];
    let current = null;
    for (const text of patch.split("\n")) {
      if (text.startsWith("diff --git ")) {
        const match = / b\/(.*)$/.exec(text);
        current = { path: match ? match[1] : text.slice(11), lines: [] };
        files.push(current);
      } else if (current) {
        current.lines.push(text);
      }
    }
    return files;
  }

  function lineClass(text) {
    if (text.startsWith("@@")) return "hunk";
    if (text.startsWith("+++") || text.startsWith("---")) return "meta";
    if (text.startsWith("+")) return "add";
    if (text.startsWith("-")) return "del";
    if (/^(index|new file|deleted file|similarity|rename|old mode|new mode|Binary)/.test(text)) {
      return "meta";
    }
    return "ctx";
  }

  function onDiff(diff) {
    const stat = diff.stat || { files: [] };
    document.getElementById("diffstat").textContent = stat.summary || "";
    renderPatch(document.getElementById("diff"), diff.patch || "", stat, diff.truncated);
  }

  // A patch as one folded section per file; `stat` (optional) gives the +/− counts.
  function renderPatch(box, patch, stat, truncated, empty = "No changes yet.") {
    const byPath = new Map(((stat && stat.files) || []).map((f) => [f.path, f]));
    const files = splitFiles(patch);
    if (!files.length) {
      box.replaceChildren(el("p", "empty muted", empty));
      return;
    }
    const nodes = files.map((file) => {
      const details = el("details", "file");
      details.open = file.lines.length < 400;
      const summary = el("summary");
      summary.appendChild(el("span", "path", file.path));
      const counted = byPath.get(file.path);
      if (counted && counted.added >= 0) {
        summary.appendChild(el("span", "plus", `+${counted.added}`));
        summary.appendChild(el("span", "minus", `−${counted.removed}`));
      } else if (counted) {
        summary.appendChild(el("span", "muted", "binary"));
      }
      const pre = el("pre", "code");
      for (const text of file.lines) {
        if (lineClass(text) === "meta") continue;
        pre.appendChild(el("span", `l ${lineClass(text)}`, `${text}\n`));
      }
      details.append(summary, pre);
      return details;
    });
    if (truncated) nodes.push(el("p", "muted", "The diff is too long to show in full."));
    box.replaceChildren(...nodes);
  }

  // ---- a comparison: one column per candidate, and the diff between two of them ----------
  const comparePane = document.getElementById("compare");
  const columnsBox = document.getElementById("columns");
  const columns = new Map(); // candidate number -> {col, badge, step, chips, verdict, diff}
  let comparing = null; // the comparison's prompt id
  let between = {};
  const STATES = { started: "running", result: "done", error: "failed", cancelled: "cancelled" };

  function columnFor(promptId, number, label) {
    if (comparing !== promptId) {  // a new comparison replaces the last one's columns
      comparing = promptId;
      columns.clear();
      columnsBox.replaceChildren();
      document.getElementById("between-box").hidden = true;
      const info = promptInfo.get(promptId);
      document.getElementById("compare-note").textContent = info ? info.text.split("\n")[0] : "";
    }
    comparePane.hidden = false;
    let column = columns.get(number);
    if (!column) {
      const col = el("article", "column");
      col.dataset.candidate = String(number);
      const head = el("header", "column-head");
      head.appendChild(el("span", "seq", `#${number}`));
      head.appendChild(el("strong", "label", label || `candidate ${number}`));
      const badge = head.appendChild(el("span", "badge small state-queued", "queued"));
      column = {
        col, badge,
        step: el("p", "step muted", "waiting"),
        chips: el("p", "chips"),
        verdict: el("p", "verdict"),
        diff: el("div", "diff candidate-diff"),
      };
      col.append(head, column.step, column.chips, column.verdict, column.diff);
      const later = [...columns.keys()].filter((n) => n > number).sort((a, b) => a - b)[0];
      columnsBox.insertBefore(col, later ? columns.get(later).col : null);
      columns.set(number, column);
    }
    return column;
  }

  function onCandidateEvent(event) {
    const d = event.data || {};
    const column = columnFor(event.prompt, d.candidate, d.label);
    const state = STATES[event.kind];
    if (state) {
      column.badge.textContent = state;
      column.badge.className = `badge small state-${state}`;
    }
    const shown = event.line || { text: event.text, chips: [] };
    if (shown.text) column.step.textContent = shown.text.split("\n")[0];
    if (shown.chips && shown.chips.length) {
      column.chips.replaceChildren(...shown.chips.map((c) => el("span", "chip", c)));
    }
  }

  function onComparisonEnd(event) {
    const compared = (event.data || {}).comparison;
    if (!compared) return;
    for (const c of compared.candidates || []) {
      const column = columnFor(event.prompt, c.number, c.label);
      column.verdict.textContent = c.verdict || "";
      column.col.classList.toggle("picked", compared.picked === c.number);
    }
  }

  function onPicked(number) {
    for (const [n, column] of columns) column.col.classList.toggle("picked", n === number);
    if (columns.has(number)) {
      document.getElementById("compare-note").textContent = `candidate ${number} was picked`;
    }
  }

  function onComparison(record) {
    if (!record.prompt_id) {  // picked from or discarded: their workdirs are gone
      for (const column of columns.values()) column.diff.replaceChildren();
      document.getElementById("between-box").hidden = true;
      return;
    }
    for (const c of record.candidates || []) {
      const column = columnFor(record.prompt_id, c.number, c.label);
      renderPatch(column.diff, c.patch || "", null, c.truncated, "No changes.");
    }
    between = record.between || {};
    const numbers = (record.candidates || []).map((c) => c.number);
    const [a, b] = [document.getElementById("between-a"), document.getElementById("between-b")];
    for (const select of [a, b]) {
      select.replaceChildren(...numbers.map((n) => {
        const option = el("option", null, `#${n}`);
        option.value = String(n);
        return option;
      }));
    }
    if (numbers.length > 1) {
      a.value = String(numbers[0]);
      b.value = String(numbers[1]);
      document.getElementById("between-box").hidden = false;
      showBetween();
    }
  }

  function showBetween() {
    const a = Number(document.getElementById("between-a").value);
    const b = Number(document.getElementById("between-b").value);
    const box = document.getElementById("between");
    if (a === b) {
      box.replaceChildren(el("p", "empty muted", "Pick two different candidates."));
      return;
    }
    const patch = between[`${Math.min(a, b)}-${Math.max(a, b)}`];
    const direction = a < b ? "" : " (shown from the lower number to the higher)";
    renderPatch(box, patch || "", null, false, `No difference${direction}.`);
  }
  document.getElementById("between-a").addEventListener("change", showBetween);
  document.getElementById("between-b").addEventListener("change", showBetween);

  // ---- the connection ---------------------------------------------------------------------
  function setConn(state, text) {
    connBadge.className = `conn ${state}`;
    connBadge.textContent = text;
  }

  function expired() {
    return Date.now() / 1000 >= snapshot.expires;
  }

  function connect() {
    const url = new URL(snapshot.events, location.href);
    if (lastId) url.searchParams.set("after", lastId); // a new EventSource sends no Last-Event-ID
    source = new EventSource(url);
    source.onopen = () => {
      retryDelay = 1000;
      setConn("live", "live");
    };
    source.onmessage = (m) => onEvent(JSON.parse(m.data));
    source.addEventListener("prompt", (m) => onPrompt(JSON.parse(m.data)));
    source.addEventListener("diff", (m) => onDiff(JSON.parse(m.data)));
    source.addEventListener("comparison", (m) => onComparison(JSON.parse(m.data)));
    source.onerror = () => {
      if (expired()) {
        source.close();
        setConn("expired", "link expired: ask Repobox for a fresh one");
      } else if (source.readyState === EventSource.CLOSED) {
        setConn("offline", "offline, retrying…");
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      } else {
        setConn("offline", "reconnecting…");
      }
    };
  }

  connect();
})();
