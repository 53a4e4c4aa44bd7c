"""Re-review without noise: what a merge request's earlier review found, carried to its new
head, and sorted against what this review found.

"The same finding" means: the same file, lines that overlap the earlier finding's lines
once those are moved through the commits pushed since (`git diff -U0 old new`), and the
same meaning, i.e. the normalised message's key is equal or the two messages share most of
their words. A finding like that is not posted again. An earlier finding whose lines the new
commits changed, and which this review did not find again, counts as fixed: its thread is
resolved. An earlier one on untouched lines that was not found again stays open, moved.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.agents.findings import Finding
from bot.core.errors import GitError
from bot.git.runner import git

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
WORD = re.compile(r"[a-z0-9_]+")
SIMILAR = 0.5  # shared words / all words, for two messages to mean the same
NEAR = 2  # lines of slack when comparing moved ranges

Hunks = list[tuple[int, int, int, int]]  # old start, old count, new start, new count


def words(message: str) -> set[str]:
    return set(WORD.findall(message.lower()))


def finding_key(finding: Finding) -> str:
    """Stable across reviews while the file and the meaning stay: path + normalised message."""
    text = f"{finding.path}\n{' '.join(sorted(words(finding.message)))}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Remembered:
    head: str | None = None
    findings: dict[str, Finding] = field(default_factory=dict)  # key -> finding at `head`

    def to_dict(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "findings": [{"key": k, **f.to_dict()} for k, f in self.findings.items()],
        }

    @classmethod
    def from_stored(cls, data: Any) -> Remembered:
        """Today's shape, or the first version's bare list of findings (no head, no keys)."""
        if isinstance(data, list):
            found = [Finding.from_dict(f) for f in data]
            return cls(None, {finding_key(f): f for f in found})
        if not isinstance(data, dict):
            return cls()
        out = cls(data.get("head") if isinstance(data.get("head"), str) else None)
        for raw in data.get("findings") or []:
            if isinstance(raw, dict):
                fields = dict(raw)
                key = str(fields.pop("key", ""))
                finding = Finding.from_dict(fields)
                out.findings[key or finding_key(finding)] = finding
        return out


@dataclass
class Sorted:
    new: dict[str, Finding] = field(default_factory=dict)
    repeated: dict[str, Finding] = field(default_factory=dict)  # earlier key -> found again
    fixed: dict[str, Finding] = field(default_factory=dict)  # earlier key -> as it was
    kept: dict[str, Finding] = field(default_factory=dict)  # earlier, untouched, moved

    def remembered(self, head: str) -> Remembered:
        return Remembered(head, {**self.kept, **self.repeated, **self.new})


def line_moves(mirror: Path, old: str, new: str) -> dict[str, Hunks] | None:
    """Per file, the hunks of `git diff -U0 old new`; None if the old head is gone."""
    try:
        text = git("diff", "--no-color", "--no-ext-diff", "-U0", old, new, "--", cwd=mirror)
    except GitError:
        return None
    moves: dict[str, Hunks] = {}
    path = ""
    for raw in text.splitlines():
        if raw.startswith("--- "):
            path = raw[4:].removeprefix("a/")
            moves.setdefault(path, [])
        elif (m := HUNK.match(raw)) is not None and path:
            counts = (m.group(2), m.group(4))
            old_n, new_n = (1 if c is None else int(c) for c in counts)
            moves[path].append((int(m.group(1)), old_n, int(m.group(3)), new_n))
    return moves


def move(line: int, hunks: Hunks) -> int | None:
    """Where old `line` is after the hunks, or None if they changed or removed it."""
    offset = 0
    for old_start, old_n, new_start, new_n in hunks:
        if old_n == 0:  # a pure insertion after old line `old_start`
            if line <= old_start:
                return line + offset
        elif line < old_start:
            return line + offset
        elif line < old_start + old_n:
            return None
        next_old = old_start + old_n if old_n else old_start + 1
        next_new = new_start + new_n if new_n else new_start + 1
        offset = next_new - next_old
    return line + offset


def moved(finding: Finding, moves: dict[str, Hunks]) -> Finding | None:
    hunks = moves.get(finding.path, [])
    if finding.path in moves and not hunks:
        return None  # the file was deleted (or emptied): the finding's lines are gone
    last = move(finding.line, hunks)
    first = move(finding.first, hunks)
    if last is None or first is None:
        return None
    return replace(finding, line=last, start_line=first if first != last else None)


def same(earlier: Finding, key: str, found: Finding) -> bool:
    if earlier.path != found.path:
        return False
    overlap = earlier.first <= found.line + NEAR and found.first <= earlier.line + NEAR
    if not overlap:
        return False
    if key == finding_key(found):
        return True
    a, b = words(earlier.message), words(found.message)
    return bool(a and b) and len(a & b) / len(a | b) >= SIMILAR


def sort_findings(
    earlier: Remembered, found: list[Finding], moves: dict[str, Hunks] | None
) -> Sorted:
    """Sort this review's findings against the last one's (`moves`: None when the lines
    cannot be followed, so nothing is called fixed and lines are compared as they were)."""
    out = Sorted()
    carried: dict[str, Finding] = {}
    for key, finding in earlier.findings.items():
        now = finding if moves is None else moved(finding, moves)
        if now is None:
            out.fixed[key] = finding
        else:
            carried[key] = now
    for finding in found:
        match = next((k for k, f in carried.items() if same(f, k, finding)), None)
        if match is None:
            match = next((k for k, f in out.fixed.items() if same(f, k, finding)), None)
            if match is not None:  # its lines changed but the problem is still there
                del out.fixed[match]
        if match is not None and match not in out.repeated:
            out.repeated[match] = finding
            carried.pop(match, None)
            continue
        key = finding_key(finding)
        while key in out.new or key in out.repeated or key in carried:
            key = hashlib.sha256(key.encode()).hexdigest()[:12]
        out.new[key] = finding
    out.kept = carried
    return out
