"""Checkpoint commit messages written from the run, not from the raw prompt.

Deterministic, no model call: the subject is the agent's summary's first sentence put in
the imperative where that is a simple word swap ("Added retries to…" → "Add retries
to…"), else the prompt when it already reads as an order ("fix the flaky test"), else,
when the agent wrote no summary, the prompt's first line, else the files touched
("Update bot/retry.py"). At most 72 characters, no trailing period.
The body says what changed (the summary, the files) and who asked, and ends with the
`Co-authored-by` trailer so the person shows up as an author on the forge.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from bot.git.checkpoints import DiffStat
from bot.git.people import Author

SUBJECT_MAX = 72
BODY_WIDTH = 72
FILES_LISTED = 20

# Past tense and third person → imperative. Irregular forms are listed; the base form of
# every verb here also counts as imperative already.
_VERBS = {
    "added": "add", "adds": "add", "fixed": "fix", "fixes": "fix", "updated": "update",
    "updates": "update", "removed": "remove", "removes": "remove", "renamed": "rename",
    "renames": "rename", "refactored": "refactor", "refactors": "refactor",
    "implemented": "implement", "implements": "implement", "created": "create",
    "creates": "create", "changed": "change", "changes": "change", "moved": "move",
    "moves": "move", "replaced": "replace", "replaces": "replace", "improved": "improve",
    "improves": "improve", "made": "make", "makes": "make", "wrote": "write",
    "writes": "write", "deleted": "delete", "deletes": "delete", "introduced": "introduce",
    "introduces": "introduce", "extracted": "extract", "extracts": "extract",
    "converted": "convert", "converts": "convert", "cleaned": "clean", "cleans": "clean",
    "bumped": "bump", "bumps": "bump", "corrected": "correct", "corrects": "correct",
    "documented": "document", "documents": "document", "handled": "handle",
    "handles": "handle", "allowed": "allow", "allows": "allow", "enabled": "enable",
    "enables": "enable", "disabled": "disable", "disables": "disable",
    "simplified": "simplify", "simplifies": "simplify", "ensured": "ensure",
    "ensures": "ensure", "split": "split", "splits": "split", "set": "set", "sets": "set",
    "upgraded": "upgrade", "upgrades": "upgrade", "reverted": "revert", "reverts": "revert",
    "optimized": "optimize", "optimizes": "optimize", "optimised": "optimise",
    "tested": "test", "tests": "test", "validated": "validate", "validates": "validate",
    "guarded": "guard", "guards": "guard", "restored": "restore", "restores": "restore",
    "dropped": "drop", "drops": "drop", "switched": "switch", "switches": "switch",
    "avoided": "avoid", "avoids": "avoid", "prevented": "prevent", "prevents": "prevent",
    "reworked": "rework", "reworks": "rework", "rewrote": "rewrite", "rewrites": "rewrite",
    "translated": "translate", "translates": "translate", "tidied": "tidy", "tidies": "tidy",
    "built": "build", "builds": "build", "kept": "keep", "keeps": "keep",
    "supported": "support", "supports": "support", "wired": "wire", "wires": "wire",
    "exposed": "expose", "exposes": "expose", "migrated": "migrate", "migrates": "migrate",
    "increased": "increase", "increases": "increase", "reduced": "reduce",
    "reduces": "reduce", "raised": "raise", "raises": "raise", "returned": "return",
    "returns": "return", "stopped": "stop", "stops": "stop", "started": "start",
    "starts": "start", "used": "use", "uses": "use", "passed": "pass", "passes": "pass",
}  # fmt: skip
_IMPERATIVE = frozenset(_VERBS.values())
_LEADS = re.compile(
    r"^(?:i(?:'ve| have)?|we(?:'ve| have)?|this (?:change|commit|run|pr|mr)|"
    r"(?:in )?this (?:run|prompt),?|(?:all )?done[.:!,]?|ok(?:ay)?[.:,]?|sure[.:,!]?|"
    r"now|just|also|successfully)\s+",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")


def first_sentence(text: str) -> str:
    """The first sentence (or line) of `text`, on one line, markdown marks dropped."""
    stripped = re.sub(r"^[#>*\-\s]+", "", text.strip())
    sentence = _SENTENCE_END.split(stripped, maxsplit=1)[0] if stripped else ""
    sentence = re.sub(r"(?<!\w)[*_`]{1,2}(?=\S)|(?<=\S)[*_`]{1,2}(?!\w)", "", sentence)
    return " ".join(sentence.split()).rstrip(".!:;,")


def imperative(sentence: str) -> str | None:
    """`sentence` starting with an imperative verb, or None when no simple rewrite works."""
    text = sentence
    while (lead := _LEADS.match(text)) is not None:
        text = text[lead.end() :]
    words = text.split(maxsplit=1)
    if not words:
        return None
    first = words[0].lower().rstrip(",:")
    verb = _VERBS.get(first) or (first if first in _IMPERATIVE else None)
    if verb is None:
        return None
    rest = f" {words[1]}" if len(words) > 1 else ""
    return verb.capitalize() + rest


def subject_line(summary: str | None, prompt: str, files: Sequence[str]) -> str:
    """At most 72 characters, imperative, no trailing period."""
    candidates = [imperative(first_sentence(summary or "")), imperative(first_sentence(prompt))]
    if not (summary or "").strip():  # no word from the agent: the person's own first line
        asked = first_sentence(prompt).strip(".!?:;, ")
        candidates.append(asked[:1].upper() + asked[1:])
    chosen = next((c for c in candidates if c), None) or _from_files(files)
    return _fit(chosen)


def commit_message(*, summary: str | None, prompt: str, changes: DiffStat, author: Author) -> str:
    """The whole message: subject, blank line, body, blank line, trailer."""
    files = [f.path for f in changes.files]
    parts = [subject_line(summary, prompt, files)]
    if summary and summary.strip():
        parts.append(_wrap(summary.strip()))
    if changes.files:
        listed = [
            f"- {f.path} (+{max(f.added, 0)} −{max(f.removed, 0)})"
            for f in changes.files[:FILES_LISTED]
        ]
        if len(changes.files) > FILES_LISTED:
            listed.append(f"- … and {len(changes.files) - FILES_LISTED} more")
        parts.append("Changes:\n" + "\n".join(listed))
    asked = first_sentence(prompt)
    if asked:
        asked = asked if len(asked) <= 200 else asked[:199] + "…"
        parts.append(_wrap(f'Asked by {author.name}: "{asked}"'))
    parts.append(f"Co-authored-by: {author.co_author}")
    return "\n\n".join(parts) + "\n"


def _from_files(files: Sequence[str]) -> str:
    if not files:
        return "Update the work branch"
    if len(files) == 1:
        return f"Update {files[0]}"
    if len(files) == 2:
        return f"Update {files[0]} and {files[1]}"
    folders = {f.rsplit("/", 1)[0] if "/" in f else "" for f in files}
    where = f" in {folders.pop()}/" if len(folders) == 1 and "" not in folders else ""
    return f"Update {len(files)} files{where}"


def _fit(subject: str) -> str:
    subject = subject.rstrip(".!:;, ")
    if len(subject) <= SUBJECT_MAX:
        return subject
    cut = subject[: SUBJECT_MAX - 1]
    space = cut.rfind(" ")
    if space > SUBJECT_MAX // 2:
        cut = cut[:space]
    return cut.rstrip(".,;:- ") + "…"


def _wrap(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    wrapped = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        if any(line.lstrip().startswith(("-", "*", "1.", "`")) for line in lines):
            wrapped.append("\n".join(lines))  # a list or code: keep its lines
        else:
            wrapped.append(textwrap.fill(" ".join(paragraph.split()), BODY_WIDTH))
    return "\n\n".join(wrapped)
