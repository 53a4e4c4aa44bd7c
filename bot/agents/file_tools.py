"""The built-in agent's file tools: list, read, write, edit and search inside the workdir.

Each tool returns what the model reads next and a step written for a person watching the
thread. Every path goes through `Confinement`; a refusal or a mistake (no such file, an
`old` text that is not unique) raises `ToolFailure`, which becomes an error result the
model can react to.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.agents.text import short
from bot.git.runner import base_env
from bot.security.paths import Confinement, PathRefused, walk_files

READ_LINES = 2_000
LINE_CHARS = 2_000
READ_CHARS = 100_000
WRITE_LIMIT = 5_000_000
LIST_LIMIT = 1_000
SEARCH_LIMIT = 200
SEARCH_FILE_LIMIT = 2_000_000
DIFF_LINE_LIMIT = 20_000


class ToolFailure(Exception):
    """A tool could not do what was asked; the message is for the model."""


@dataclass(frozen=True)
class Done:
    """A tool's success: the text for the model and the step for people."""

    content: str
    step: str
    failed: bool = False  # it ran, and failed (a command's non-zero exit): an error card


def line_changes(before: str, after: str) -> tuple[int, int]:
    """Lines added and removed between two texts (the `+3 -1` of a step)."""
    old, new = before.splitlines(), after.splitlines()
    if len(old) + len(new) > DIFF_LINE_LIMIT:
        return len(new), len(old)
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


class FileTools:
    def __init__(self, confinement: Confinement) -> None:
        self.jail = confinement

    def _path(self, raw: str | None, *, allow_root: bool = True) -> Path:
        try:
            return self.jail.resolve(raw, allow_root=allow_root)
        except PathRefused as refused:
            raise ToolFailure(str(refused)) from None

    def list_files(self, path: str | None = None, pattern: str | None = None) -> Done:
        start = self._path(path)
        if not start.exists():
            raise ToolFailure(f"There is no `{path}` in the repository.")
        names = [self.jail.relative(p) for p in self.candidates(start)]
        if pattern:
            names = [
                n
                for n in names
                if fnmatch.fnmatch(n, pattern) or fnmatch.fnmatch(n, f"*/{pattern}")
            ]
        where = self.jail.relative(start)
        step = "listed " + ("the repository" if where == "." else where)
        step += f" ({pattern})" if pattern else ""
        if not names:
            return Done("No files found.", step)
        shown = names[:LIST_LIMIT]
        more = len(names) - len(shown)
        tail = f"\n… and {more} more; narrow it down with `path` or `pattern`." if more else ""
        return Done("\n".join(shown) + tail, step)

    def read_file(self, path: str, offset: int | None = None, limit: int | None = None) -> Done:
        target = self._path(path, allow_root=False)
        rel = self.jail.relative(target)
        text = self._text(target, rel)
        lines = text.splitlines()
        first = max(1, offset or 1)
        count = max(1, min(limit or READ_LINES, READ_LINES))
        chosen = lines[first - 1 : first - 1 + count]
        body, used = [], 0
        for number, line in enumerate(chosen, start=first):
            shown = line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + " …[line cut]"
            used += len(shown) + 8
            if used > READ_CHARS:
                break
            body.append(f"{number:>6}\t{shown}")
        last = first + len(body) - 1
        partial = first > 1 or last < len(lines)
        note = ""
        if not lines:
            note = "(the file is empty)"
        elif partial:
            note = f"\n(lines {first}–{last} of {len(lines)}; use offset={last + 1} for more)"
        step = f"read {rel}" + (f" (lines {first}–{last})" if partial and body else "")
        return Done("\n".join(body) + note, step)

    def write_file(self, path: str, content: str) -> Done:
        target = self._path(path, allow_root=False)
        rel = self.jail.relative(target)
        if target.is_dir():
            raise ToolFailure(f"`{rel}` is a directory.")
        if len(content) > WRITE_LIMIT:
            raise ToolFailure(f"That is over {WRITE_LIMIT // 1_000_000} MB; write smaller files.")
        before = self._text(target, rel) if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        added, removed = line_changes(before or "", content)
        if before is None:
            return Done(f"Created {rel} ({added} lines).", f"created {rel} (+{added})")
        return Done(
            f"Wrote {rel} (+{added} −{removed} lines).", f"wrote {rel} (+{added} −{removed})"
        )

    def edit_file(self, path: str, old: str, new: str) -> Done:
        target = self._path(path, allow_root=False)
        rel = self.jail.relative(target)
        if not target.exists():
            raise ToolFailure(f"There is no `{rel}`; use write_file to create it.")
        text = self._text(target, rel)
        if not old:
            raise ToolFailure("`old` is empty; give the exact text to replace.")
        found = text.count(old)
        if found == 0:
            raise ToolFailure(
                f"`old` was not found in {rel}. Read the file and copy the text exactly, "
                "whitespace and indentation included."
            )
        if found > 1:
            raise ToolFailure(
                f"`old` occurs {found} times in {rel}; include more surrounding lines so it "
                "matches exactly one place."
            )
        target.write_text(text.replace(old, new, 1), encoding="utf-8")
        added, removed = line_changes(old, new)
        return Done(
            f"Edited {rel} (+{added} −{removed} lines).", f"edited {rel} (+{added} −{removed})"
        )

    def search(self, pattern: str, path: str | None = None) -> Done:
        start = self._path(path)
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise ToolFailure(f"`{pattern}` is not a valid regular expression: {error}") from None
        where = "" if start == self.jail.root else f" in {self.jail.relative(start)}"
        step = f"searched for `{short(pattern, 60)}`{where}"
        hits: list[str] = []
        files = 0
        for file in self.candidates(start):
            found = _grep(file, regex, self.jail.relative(file), SEARCH_LIMIT - len(hits))
            files += bool(found)
            hits += found
            if len(hits) >= SEARCH_LIMIT:
                break
        if not hits:
            return Done("No matches.", step)
        summary = f"{step}: {len(hits)} matches in {files} files"
        if len(hits) >= SEARCH_LIMIT:
            hits.append(f"… stopped at {SEARCH_LIMIT} matches; narrow the pattern or path.")
            summary = f"{step}: {SEARCH_LIMIT}+ matches"
        return Done("\n".join(hits), summary)

    def candidates(self, start: Path) -> list[Path]:
        """Files under `start`: git's view (ignores .gitignored files) when it has one."""
        listed = _git_files(self.jail.root, self.jail.relative(start))
        if listed is None:
            return list(walk_files(self.jail, start))
        found = []
        for rel in listed:
            parts = Path(rel).parts
            path = self.jail.root / rel
            if self.jail.hidden(parts) or not path.is_file():
                continue
            if path.is_symlink() and self.jail.root not in path.resolve().parents:
                continue
            found.append(path)
        return found

    def _text(self, target: Path, rel: str) -> str:
        if target.is_dir():
            raise ToolFailure(f"`{rel}` is a directory; use list_files.")
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            raise ToolFailure(f"There is no `{rel}`.") from None
        except OSError as error:
            raise ToolFailure(f"Could not read `{rel}`: {error.strerror}.") from None
        if b"\x00" in raw[:8192]:
            raise ToolFailure(f"`{rel}` is a binary file.")
        return raw.decode("utf-8", "replace")


def _git_files(root: Path, rel: str) -> list[str] | None:
    try:
        done = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", rel],
            cwd=root,
            env=base_env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return sorted({name for name in done.stdout.decode("utf-8", "replace").split("\0") if name})


def _grep(file: Path, regex: re.Pattern[str], rel: str, room: int) -> list[str]:
    try:
        if file.stat().st_size > SEARCH_FILE_LIMIT:
            return []
        raw = file.read_bytes()
    except OSError:
        return []
    if b"\x00" in raw[:8192]:
        return []
    hits = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if regex.search(line):
            hits.append(f"{rel}:{number}: {short(line, 300)}")
            if len(hits) >= room:
                break
    return hits
