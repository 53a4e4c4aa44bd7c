// The dashboard's workspace: the toolbar and the composer post with fetch (CSRF token in a
// header, `Accept: application/json`), say the answer inline, and leave the rest to the
// event stream. Without this script the same forms post and the page reloads with a notice.
(() => {
  "use strict";
  const R = window.Repobox;
  const el = R.el;
  const forms = document.querySelectorAll("form[data-action]");
  const notice = document.getElementById("notice");
  const composer = document.getElementById("composer");
  const prompt = document.getElementById("prompt");
  const queueNote = document.getElementById("queue-note");
  const csrf = composer.querySelector("input[name=csrf]").value;
  const base = composer.action.replace(/\/prompt$/, "");
  const OPEN = ["ready", "running", "pushed", "initializing"];

  let fading = null;
  // What an action answered; a success gives way after a while (what follows is in the log).
  function say(text, tone) {
    const p = el("p", `notice ${tone}`);
    p.appendChild(R.icon(tone === "error" ? "alert" : "check"));
    p.appendChild(el("span", null, text));
    notice.replaceChildren(p);
    clearTimeout(fading);
    if (tone === "ok") fading = setTimeout(() => p.remove(), 15000);
  }

  // One action: `fields` as the form's body; `button` is busy while it is on its way.
  R.act = async (action, fields, button) => {
    const body = new URLSearchParams(fields);
    if (button) button.disabled = true;
    try {
      const response = await fetch(`${base}/${action}`, {
        method: "POST",
        body,
        credentials: "same-origin",
        referrerPolicy: "same-origin", // the CSRF check wants our Origin, not "null"
        headers: { Accept: "application/json", "X-CSRF-Token": csrf },
      });
      const type = response.headers.get("Content-Type") || "";
      const answer = type.includes("application/json") ? await response.json() : null;
      if (answer) say(answer.message, answer.ok ? "ok" : "error");
      else if (response.status === 403) { // the CSRF check's own words (plain text)
        const said = (await response.text()).trim().slice(0, 300);
        say(said || "Your sign-in has expired: reload the page to sign in again.", "error");
      } else say(`The server answered ${response.status}; try again in a moment.`, "error");
      return Boolean(answer && answer.ok);
    } catch (_error) {
      say("Repobox could not be reached; try again in a moment.", "error");
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  };

  for (const form of forms) {
    form.addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const action = form.dataset.action;
      const fields = {};
      if (action === "prompt") {
        fields.prompt = prompt.value.trim();
        if (!fields.prompt) {
          say("Type a prompt first.", "error");
          prompt.focus();
          return;
        }
      }
      const ok = await R.act(action, fields, form.querySelector("button"));
      if (ok && action === "prompt") prompt.value = "";
    });
  }

  // Enter sends, Shift+Enter adds a line (and an IME's Enter only ends its composition).
  prompt.addEventListener("keydown", (key) => {
    if (key.key === "Enter" && !key.shiftKey && !key.isComposing) {
      key.preventDefault();
      composer.requestSubmit();
    }
  });

  // Arrow keys move along the toolbar (Tab still stops at each button, then the log).
  const toolbar = document.querySelector(".toolbar");
  toolbar.addEventListener("keydown", (key) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[key.key];
    if (!step) return;
    const buttons = [...toolbar.querySelectorAll("button")].filter((b) => !b.closest("[hidden]"));
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    key.preventDefault();
    buttons[(at + step + buttons.length) % buttons.length].focus();
  });

  function show(id, visible) {
    const node = document.getElementById(id);
    if (node) node.hidden = !visible;
  }

  R.on("state", (state) => {
    show("cancel", state === "running");
    const open = OPEN.includes(state);
    for (const button of document.querySelectorAll(".toolbar button, #composer button")) {
      button.disabled = !open;
    }
    prompt.disabled = !open;
    queueNote.replaceChildren();
    if (state === "running") {
      queueNote.append(R.icon("clock"), el("span", null, "A run is going: what you send now waits its turn."));
    } else if (!open) {
      queueNote.append(R.icon("alert"), el("span", null, `The session is ${state} and takes no more prompts.`));
    }
  });
  R.on("checks", ({ failing }) => show("ship-anyway", failing));
  if (R.state) R.emit("state", R.state); // the state session.js already set
})();
