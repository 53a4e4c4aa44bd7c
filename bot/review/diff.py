"""The diff under review, read the way the forges read it: which lines take a comment.

GitHub and GitLab accept a comment on a line of a hunk only (an added or a context line on
the new side, a removed line on the old side); anywhere else GitHub answers 422 "line must
be part of the diff" and GitLab 400. So a finding is placed against these hunks first,
and one that does not fit goes to the review's summary instead of failing the review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Hunk:
    new_lines: set[int] = field(default_factory=set)  # added or context, by new line number
    added: set[int] = field(default_factory=set)
    old_of_new: dict[int, int] = field(default_factory=dict)  # context lines: new -> old


@dataclass
class FileDiff:
    path: str
    old_path: str
    text: str
    hunks: list[Hunk] = field(default_factory=list)
    additions: int = 0
    deletions: int = 0

    def hunk_of(self, first: int, last: int) -> Hunk | None:
        """The one hunk holding every line of first..last on the new side, if there is one."""
        for hunk in self.hunks:
            if all(n in hunk.new_lines for n in range(first, last + 1)):
                return hunk
        return None


def parse_diff(text: str) -> dict[str, FileDiff]:
    """`git diff` output (`--no-color --no-ext-diff`) → its files, by new path."""
    files: dict[str, FileDiff] = {}
    current: FileDiff | None = None
    hunk: Hunk | None = None
    old = new = 0
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            current.text = "\n".join(lines) + "\n"
            files[current.path] = current

    for raw in text.splitlines():
        if raw.startswith("diff --git "):
            close()
            lines = [raw]
            current, hunk = FileDiff("", "", ""), None
            continue
        if current is None:
            continue
        lines.append(raw)
        if hunk is None and raw.startswith("--- "):
            current.old_path = _side(raw[4:], "a/")
        elif hunk is None and raw.startswith("+++ "):
            current.path = _side(raw[4:], "b/") or current.old_path
        elif (match := HUNK.match(raw)) is not None:
            hunk = Hunk()
            current.hunks.append(hunk)
            old, new = int(match.group(1)), int(match.group(3))
        elif hunk is not None and raw.startswith("+"):
            hunk.new_lines.add(new)
            hunk.added.add(new)
            current.additions += 1
            new += 1
        elif hunk is not None and raw.startswith("-"):
            current.deletions += 1
            old += 1
        elif hunk is not None and raw.startswith(" "):
            hunk.new_lines.add(new)
            hunk.old_of_new[new] = old
            old, new = old + 1, new + 1
    close()
    return {path: f for path, f in files.items() if path}


def _side(name: str, prefix: str) -> str:
    name = name.split("\t", 1)[0]
    if name == "/dev/null":
        return ""
    return name.removeprefix(prefix)
