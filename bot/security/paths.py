"""Path confinement for the built-in agent's file tools.

The model names paths; this module decides whether one may be touched. Every path must
resolve inside the workdir after following symlinks (so `..`, absolute paths and links
that lead out are refused), must not reach into `.git/` (the checkpoint and push rely on
it, and a planted hook or config would run outside the agent's reach), and must not look
like a secret (`.env`, keys, credentials): a model that never reads a secret cannot leak
it into a thread or a commit.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from bot.core.errors import RepoboxError

GIT_DIR = ".git"


class PathRefused(RepoboxError):
    """The path may not be used; the message is for the model and for people."""


class Confinement:
    """The workdir and the names it keeps out of reach."""

    def __init__(self, workdir: Path, secret_patterns: Iterable[str]) -> None:
        self.root = workdir.resolve()
        self.secret_patterns = tuple(p.lower() for p in secret_patterns)

    def resolve(self, raw: str | None, *, allow_root: bool = True) -> Path:
        """The real path for `raw` (relative to the workdir), or `PathRefused`."""
        text = (raw or ".").strip() or "."
        if "\x00" in text:
            raise PathRefused("The path contains a NUL byte.")
        pure = PurePosixPath(text)
        if pure.is_absolute() or text.startswith("~"):
            raise PathRefused(f"`{text}` is absolute; use a path relative to the repository root.")
        if ".." in pure.parts:
            raise PathRefused(f"`{text}` leads outside the repository (`..` is not allowed).")
        self._check_names(text, pure.parts)
        resolved = (self.root / pure).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise PathRefused(f"`{text}` is a link that leads outside the repository.")
        inside = resolved.relative_to(self.root).parts
        self._check_names(text, inside)
        if not inside and not allow_root:
            raise PathRefused("That is the repository root, not a file.")
        return resolved

    def relative(self, path: Path) -> str:
        """How a resolved path is shown to the model and to people."""
        return path.relative_to(self.root).as_posix() if path != self.root else "."

    def hidden(self, rel_parts: Iterable[str]) -> bool:
        """True for names listings and searches skip silently (.git, secret-looking files)."""
        return any(part == GIT_DIR or self.is_secret(part) for part in rel_parts)

    def is_secret(self, name: str) -> bool:
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in self.secret_patterns)

    def _check_names(self, text: str, parts: Iterable[str]) -> None:
        for part in parts:
            if part == GIT_DIR:
                raise PathRefused(
                    f"`{text}` is inside .git; git internals are off limits "
                    "(Repobox makes the commits)."
                )
            if self.is_secret(part):
                raise PathRefused(
                    f"`{text}` looks like a secret (matches the secret-file patterns); "
                    "it is not read or written."
                )


def walk_files(confinement: Confinement, start: Path) -> Iterable[Path]:
    """Files under `start` in a stable order, skipping .git, secrets and links that lead out."""
    if start.is_file():
        yield start
        return
    root = confinement.root
    for current, dirs, files in os.walk(start):
        base = Path(current)
        rel = base.relative_to(root).parts if base != root else ()
        dirs[:] = sorted(
            d for d in dirs if not confinement.hidden((*rel, d)) and not (base / d).is_symlink()
        )
        for name in sorted(files):
            path = base / name
            if confinement.hidden((*rel, name)):
                continue
            if path.is_symlink():
                target = path.resolve()
                if root not in target.parents or confinement.hidden(target.relative_to(root).parts):
                    continue
            yield path
