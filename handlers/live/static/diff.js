// A patch as one folded section per file, each drawn by diff2html with highlight.js
// (vendored under /ui/static/vendor/, see its README), and a file tree beside it.
(() => {
  "use strict";
  const R = window.Repobox;
  const el = R.el;
  const D2H = {
    drawFileList: false,
    outputFormat: "line-by-line",
    matching: "lines",
    highlight: true,
    colorScheme: "auto",
    fileContentToggle: false,
    stickyFileHeaders: false,
    synchronisedScroll: false,
  };
  const FOLD_AT = 400; // lines: longer files start folded

  function splitFiles(patch) {
    const files = [];
    let current = null;
    for (const text of patch.split("\n")) {
      if (text.startsWith("diff --git ")) {
        const match = / b\/(.*)$/.exec(text);
        current = { path: match ? match[1] : text.slice(11), lines: [text] };
        files.push(current);
      } else if (current) {
        current.lines.push(text);
      }
    }
    return files;
  }

  // Without the libraries (blocked, or not loaded yet) the lines still read as a diff.
  function plain(target, lines) {
    const pre = el("pre", "code");
    for (const text of lines) {
      if (/^(diff --git|index |--- |\+\+\+ |new file|deleted file|similarity|rename)/.test(text)) {
        continue;
      }
      const kind = text.startsWith("@@") ? "hunk" : text.startsWith("+") ? "add"
        : text.startsWith("-") ? "del" : "ctx";
      pre.appendChild(el("span", `l ${kind}`, `${text}\n`));
    }
    target.replaceChildren(pre);
  }

  function draw(target, file) {
    const text = `${file.lines.join("\n")}\n`;
    // It scrolls sideways on long lines: keyboard users reach it too.
    target.tabIndex = 0;
    target.setAttribute("role", "region");
    target.setAttribute("aria-label", `Diff of ${file.path}`);
    if (window.Diff2HtmlUI && window.hljs) {
      try {
        const ui = new window.Diff2HtmlUI(target, text, D2H, window.hljs);
        ui.draw();
        ui.highlightCode();
        return;
      } catch (error) {
        console.warn("diff2html could not draw", file.path, error);
      }
    }
    plain(target, file.lines);
  }

  function counts(parent, counted) {
    if (counted && counted.added >= 0) {
      parent.appendChild(el("span", "plus", `+${counted.added}`));
      parent.appendChild(el("span", "minus", `−${counted.removed}`));
    } else if (counted) {
      parent.appendChild(el("span", "muted", "binary"));
    }
  }

  // The files grouped by folder, each a link to its section (which it unfolds).
  function drawTree(tree, files, byPath, prefix) {
    const folders = new Map();
    files.forEach((file, i) => {
      const cut = file.path.lastIndexOf("/");
      const folder = cut < 0 ? "" : file.path.slice(0, cut);
      if (!folders.has(folder)) folders.set(folder, []);
      folders.get(folder).push({ file, i, name: file.path.slice(cut + 1) });
    });
    const list = el("ul", "tree-list");
    for (const folder of [...folders.keys()].sort()) {
      const items = folders.get(folder);
      let into = list;
      if (folder) {
        const li = list.appendChild(el("li", "tree-folder"));
        li.appendChild(R.icon("file")).classList.add("muted");
        li.appendChild(el("span", "folder", `${folder}/`));
        into = li.appendChild(el("ul", "tree-list"));
      }
      for (const { file, i, name } of items) {
        const li = into.appendChild(el("li", "tree-file"));
        const a = li.appendChild(el("a", null));
        a.href = `#${prefix}-${i}`;
        a.appendChild(el("span", "name", name));
        a.title = file.path;
        counts(a, byPath.get(file.path));
        a.addEventListener("click", () => {
          const section = document.getElementById(`${prefix}-${i}`);
          if (section) section.open = true;
        });
      }
    }
    tree.replaceChildren(el("h3", "tree-title", `${files.length} file${files.length > 1 ? "s" : ""}`), list);
  }

  // `box`: where the files go; `opts`: {stat, truncated, empty, tree (a <nav>), prefix}.
  R.renderPatch = (box, patch, opts = {}) => {
    const stat = opts.stat || {};
    const byPath = new Map((stat.files || []).map((f) => [f.path, f]));
    const files = splitFiles(patch || "");
    const prefix = opts.prefix || "file";
    if (!files.length) {
      box.replaceChildren(el("p", "empty", opts.empty || "No changes yet."));
      if (opts.tree) opts.tree.replaceChildren();
      return;
    }
    const nodes = files.map((file, i) => {
      const details = el("details", "file");
      details.id = `${prefix}-${i}`;
      details.open = file.lines.length < FOLD_AT;
      const summary = details.appendChild(el("summary"));
      summary.appendChild(el("span", "path", file.path));
      counts(summary, byPath.get(file.path));
      const body = details.appendChild(el("div", "file-body"));
      draw(body, file);
      return details;
    });
    if (opts.truncated) nodes.push(el("p", "muted truncated", "The diff is too long to show in full."));
    box.replaceChildren(...nodes);
    if (opts.tree) drawTree(opts.tree, files, byPath, prefix);
  };
})();
