"""Reads tests/fakes/allowlist.toml: calls allowed although a description lacks them."""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from pathlib import Path

ALLOWLIST = Path(__file__).with_name("allowlist.toml")


@functools.cache
def _entries() -> dict[str, list[tuple[str, str]]]:
    data = tomllib.loads(ALLOWLIST.read_text())
    found: dict[str, list[tuple[str, str]]] = {}
    for platform, entries in data.items():
        for entry in entries:
            if not str(entry.get("reason", "")).strip():
                raise ValueError(f"{ALLOWLIST.name}: {platform} {entry} has no reason")
            found.setdefault(platform, []).append((entry["method"].upper(), entry["path"]))
    return found


def allowed(platform: str, method: str, path: str) -> bool:
    """Whether `method path` on `platform` is listed, with its reason."""
    return any(
        want in ("*", method.upper()) and fnmatch.fnmatchcase(path, pattern)
        for want, pattern in _entries().get(platform, [])
    )
