// The session workspace: follows /sessions/{id}/events, draws the log, the session's state
// and merge request, and hands every event to the panels (panels.js, compare.js, diff.js).
(() => {
  "use strict";
  const R = window.Repobox;
  const el = R.el;
  const snapshot = R.snapshot;
  const logBox = document.getElementById("log");
  const followButton = document.getElementById("follow");
  const connBadge = document.getElementById("conn");
  const stateChip = document.getElementById("state");
  const counts = { lines: 0, stderr: 0, errors: 0 };
  const sections = new Map(); // prompt id -> {section, list, badge, text, who}
  const TONES = {
    initializing: "warn running", ready: "ok", running: "info running", pushed: "ok",
    failed: "err", archived: "", queued: "", done: "ok", cancelled: "warn",
  };
  R.promptInfo = new Map(snapshot.prompts.map((p) => [p.id, p]));
  let shipped = snapshot.mr.phase !== "none";
  let tail = null; // the last block appended, for events that belong to no prompt
  let lastId = null;
  let following = true;
  let unseen = 0;
  let source = null;
  let retryDelay = 1000;

  // Stream ids are "milliseconds-sequence"; compare them as numbers.
  function after(a, b) {
    const [am, as] = a.split("-").map(Number);
    const [bm, bs] = b.split("-").map(Number);
    return am > bm || (am === bm && (as || 0) > (bs || 0));
  }

  function chip(node, state, extra = "") {
    node.className = `chip ${TONES[state] || ""} state-${state} ${extra}`.trim();
    node.dataset.state = state;
    const dot = el("span", "dot");
    dot.setAttribute("aria-hidden", "true");
    node.replaceChildren(dot, el("span", "label", state));
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

  // Only the reader scrolls up (we only ever scroll down), so that is what stops following;
  // a scroll that comes with a new size (the window or the pane resized) is not theirs.
  let lastTop = 0;
  let lastHeight = logBox.clientHeight;
  logBox.addEventListener("scroll", () => {
    const top = logBox.scrollTop;
    const resized = logBox.clientHeight !== lastHeight;
    if (following && top < lastTop - 2 && !resized) setFollowing(false);
    else if (!following && atBottom()) setFollowing(true);
    else if (following && resized) scrollToEnd();
    lastTop = top;
    lastHeight = logBox.clientHeight;
  });
  followButton.addEventListener("click", () => {
    setFollowing(true);
    logBox.scrollTop = logBox.scrollHeight;
  });

  // ---- prompts and their sections ---------------------------------------------------
  function fillHeader(entry, info) {
    const label = { ship: "ship", undo: "undo", pick: "pick" }[info.action];
    entry.seq.textContent = label || `#${info.seq}`;
    entry.text.textContent = info.text.split("\n")[0];
    entry.text.title = info.text;
    entry.who.textContent = info.author ? `by ${info.author}` : "";
    setPromptState(entry, info.state);
  }

  function setPromptState(entry, state) {
    if (!state) return;
    chip(entry.badge, state, "badge small");
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
        who: head.appendChild(el("span", "who")),
        badge: head.appendChild(el("span", "chip badge small")),
        list: el("ol", "lines"),
      };
      section.append(head, entry.list);
      logBox.appendChild(section);
      sections.set(promptId, entry);
      fillHeader(entry, R.promptInfo.get(promptId) || { seq: "?", text: "", state: "" });
    }
    tail = entry.section;
    return entry.list;
  }

  function onPrompt(info) {
    R.promptInfo.set(info.id, info);
    const entry = sections.get(info.id);
    if (entry) fillHeader(entry, info);
  }

  // ---- one event, one line: the server sends how it reads (bot/progress/lines.py) ------
  function line(event) {
    const d = event.data || {};
    const shown = event.line || { tag: event.kind, text: event.text, chips: [], stderr: false };
    const li = el("li", `ev k-${event.kind}${shown.stderr ? " stderr" : ""}`);
    li.dataset.id = event.id;
    li.appendChild(el("time", "at", R.clock(event.at)));
    li.appendChild(el("span", "tag", shown.tag));
    if (shown.candidate) li.appendChild(el("span", "cand", shown.candidate));
    const txt = li.appendChild(el("span", "txt"));
    R.richText(txt, shown.text); // a verdict's emoji becomes an SVG icon
    const url = event.kind === "shipped" ? R.webUrl(d.url) : null;
    if (url) {
      const a = el("a", "link", url);
      a.href = url;
      a.rel = "noreferrer";
      li.appendChild(a);
    }
    if (shown.chips.length) {
      const figures = li.appendChild(el("span", "lchips"));
      for (const text of shown.chips) figures.appendChild(el("span", "lchip", text));
    }
    return li;
  }

  // ---- the session's state and its merge request ---------------------------------------
  function setState(state) {
    chip(stateChip, state);
    R.state = state;
    if (state === "pushed") shipped = true;
    R.emit("state", state);
  }

  function setMr(url) {
    const mr = snapshot.mr;
    const box = document.getElementById("mr");
    const parts = [];
    if (url) {
      const number = /(\d+)\/?$/.exec(url);
      const a = el("a", null, `${mr.noun[0].toUpperCase()}${mr.noun.slice(1)} ${number ? mr.mark + number[1] : ""}`.trim());
      a.href = url;
      a.rel = "noreferrer";
      parts.push(el("span", "chip ok", "open"), document.createTextNode(" "), a);
      box.dataset.phase = "open";
    } else if (shipped) {
      parts.push(el("span", "chip info", "pushed"), document.createTextNode(" "),
        el("span", null, `Pushed to ${snapshot.session.work_branch}: no ${mr.noun} yet`));
      box.dataset.phase = "pushed";
    } else {
      return;
    }
    box.replaceChildren(...parts);
  }

  function apply(event) {
    if (event.kind === "state") setState(event.text);
    if (event.kind === "shipped") {
      shipped = true;
      const url = R.webUrl((event.data || {}).url);
      if (url || document.getElementById("mr").dataset.phase !== "open") setMr(url);
    }
    const entry = event.prompt ? sections.get(event.prompt) : null;
    if (entry && event.line && event.line.state) setPromptState(entry, event.line.state);
  }

  function onEvent(event) {
    if (lastId && !after(event.id, lastId)) return; // never show a line twice
    lastId = event.id;
    const empty = logBox.querySelector(".empty");
    if (empty) empty.remove();
    sectionFor(event.prompt).appendChild(line(event));
    apply(event);
    R.emit("event", event);
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

  function onDiff(diff) {
    const stat = diff.stat || { files: [] };
    document.getElementById("diffstat").textContent = stat.summary || "";
    R.renderPatch(document.getElementById("diff"), diff.patch || "", {
      stat, truncated: diff.truncated, tree: document.getElementById("tree"), prefix: "file" });
  }

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
    source.addEventListener("comparison", (m) => R.emit("comparison", JSON.parse(m.data)));
    source.onerror = () => {
      if (expired()) {
        source.close();
        setConn("expired", snapshot.actions
          ? "signed out: sign in again to follow" : "link expired: ask Repobox for a fresh one");
      } else if (source.readyState === EventSource.CLOSED) {
        setConn("offline", "offline, retrying…");
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      } else {
        setConn("offline", "reconnecting…");
      }
    };
  }

  setState(snapshot.session.state);
  connect();
})();
