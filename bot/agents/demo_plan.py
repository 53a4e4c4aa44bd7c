"""What the demo agent does with a prompt: fixed rules on its words, no model.

So a newcomer can predict the diff from the prompt, each clause of it (split on lines,
`;`, `and`, `then`) is read by its first word:

- `add` / `create` / `write` / `make` … : a line appended to the file it names, or a new
  file (`add a greeting` → `greeting.md`, its text made from the words);
- `remove` / `delete` / `drop` … : the file it names is deleted, or else the lines that
  mention its word;
- `rename A to B` / `replace A with B` / `change A to B`: the word A becomes B everywhere;
- anything else: the clause as a line in `NOTES.md`.

A comparison's candidates each get their own variant (`variant`), so `compare demo,demo`
has different results to compare. Only the head of a huge prompt is read for rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.agents.text import short

READ_CHARS = 4_000  # of the prompt, for rules: a 1 MB prompt plans as fast as a short one
MAX_CLAUSES = 6
NOTES = "NOTES.md"

ADD = frozenset({"add", "create", "write", "make", "new", "put", "insert", "append"})
REMOVE = frozenset({"remove", "delete", "drop", "rm", "erase"})
RENAME = frozenset({"rename", "replace", "change", "swap"})
POLITE = frozenset({"please", "now", "also", "then", "and", "just", "can", "you", "could"})
FILLER = frozenset(
    {
        "a", "an", "the", "some", "new", "file", "files", "called", "named", "to", "in",
        "into", "of", "for", "with", "from", "my", "our", "this", "that", "it", "line",
        "lines", "all", "any", "every", "about", "which", "mention", "mentions",
    }
)  # fmt: skip
_CLAUSES = re.compile(r"[\n;]+|(?<=\w)[.!?]\s+|,?\s+(?:and|then)\s+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_PATHLIKE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_/-]*\.[A-Za-z0-9]{1,8}$")
_COMMENT = {".py": "#", ".sh": "#", ".yml": "#", ".yaml": "#", ".toml": "#", ".rb": "#"}
_SLASHES = {".js", ".ts", ".go", ".c", ".h", ".java", ".rs", ".kt", ".swift", ".cpp"}


@dataclass(frozen=True)
class Write:
    """A new file with `text`, or, when `path` exists, `line` appended to it."""

    path: str
    text: str
    line: str


@dataclass(frozen=True)
class Delete:
    path: str


@dataclass(frozen=True)
class DropLines:
    word: str


@dataclass(frozen=True)
class Replace:
    old: str
    new: str


Action = Write | Delete | DropLines | Replace


def clauses(prompt: str) -> tuple[list[str], int]:
    """The clauses the rules read, and how many more there were past the limits."""
    found = [c.strip(" .,:!?`'\"") for c in _CLAUSES.split(prompt[:READ_CHARS])]
    found = [c for c in found if _WORD.search(c)]
    extra = max(0, len(found) - MAX_CLAUSES) + (len(prompt) > READ_CHARS)
    return found[:MAX_CLAUSES], extra


def plan(prompt: str, files: frozenset[str], variant: int = 1) -> list[Action]:
    """The actions for `prompt` in a repository holding `files` (paths from its root)."""
    read, _more = clauses(prompt)
    return [_action(clause, files, variant) for clause in read]


def _action(clause: str, files: frozenset[str], variant: int) -> Action:
    words = [w.strip("./-") if not _PATHLIKE.match(w) else w for w in _WORD.findall(clause)]
    words = [w for w in words if w]
    while words and words[0].lower() in POLITE:
        words = words[1:]
    verb = words[0].lower() if words else ""
    rest = words[1:]
    topic = [w for w in rest if w.lower() not in FILLER] or rest
    named = _named_file(topic, files)
    if verb in RENAME and (pair := _pair(clause)) is not None:
        return Replace(*pair)
    if verb in REMOVE and topic:
        slug_file = f"{_slug(topic)}.md"
        if named is not None or slug_file in files:
            return Delete(named or slug_file)
        return DropLines(max(topic, key=len))
    if verb in ADD and topic:
        path = named or next((w for w in topic if _PATHLIKE.match(w)), f"{_slug(topic)}.md")
        return Write(path, _new_text(path, clause, topic, variant), _line(path, clause, variant))
    return Write(NOTES, _notes_text(clause, variant), _line(NOTES, clause, variant))


def _named_file(words: list[str], files: frozenset[str]) -> str | None:
    """A file of the repository a word names: its path, or its name alone."""
    by_name: dict[str, str] = {}
    for path in sorted(files):
        by_name.setdefault(PurePosixPath(path).name.lower(), path)
    for word in words:
        if word in files:
            return word
        found = by_name.get(word.lower())
        if found is not None and "." in word:
            return found
    return None


def _pair(clause: str) -> tuple[str, str] | None:
    """`rename A to B`, `replace A with B`, `change A into B`: (A, B) as single words."""
    match = re.search(
        r"\b(?:rename|replace|change|swap)\s+[`'\"]?([\w.-]+)[`'\"]?\s+(?:to|with|into|by|for)"
        r"\s+[`'\"]?([\w.-]+)",
        clause,
        re.IGNORECASE,
    )
    if match is None or match.group(1) == match.group(2):
        return None
    return match.group(1), match.group(2)


def _slug(words: list[str]) -> str:
    parts = [re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in words[:4]]
    return "-".join(p for p in parts if p)[:48] or "demo"


def _new_text(path: str, clause: str, topic: list[str], variant: int) -> str:
    """A new file's text, made from the words; each variant lays them out its own way."""
    said = short(clause, 200)
    if PurePosixPath(path).suffix != ".md":
        return _line(path, clause, variant) + "\n"
    title = " ".join(topic[:6]).capitalize()
    if variant % 3 == 2:
        items = "".join(f"- {w}\n" for w in topic[:12])
        return f"# {title}\n\n{items}\nOne line per word of “{said}” (demo agent, variant 2).\n"
    if variant % 3 == 0:
        return f"# {title.upper()}\n\n> {said}\n\nWritten by the demo agent (variant 3).\n"
    return f"# {title}\n\nWritten by the demo agent (no AI) for the prompt “{said}”.\n"


def _notes_text(clause: str, variant: int) -> str:
    return (
        "# Notes\n\nWhat the demo agent (no AI) was asked:\n\n"
        + _line(NOTES, clause, variant)
        + "\n"
    )


def _line(path: str, clause: str, variant: int) -> str:
    """One line saying `clause`, written as a comment where the file's kind wants one."""
    said = short(clause, 200) + (f" (variant {variant})" if variant > 1 else "")
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _COMMENT:
        return f"{_COMMENT[suffix]} {said}"
    if suffix in _SLASHES:
        return f"// {said}"
    return f"- {said}"
