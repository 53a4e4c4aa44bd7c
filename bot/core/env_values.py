"""Environment values as settings read them: flags, non-negative numbers, path lists, word
sets. A bad value is a `ConfigError` that names the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.core.errors import ConfigError


def flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def paths(raw: str | None) -> tuple[Path, ...]:
    """An `os.pathsep`-separated list of directories (like PATH: `:` on Unix), made absolute."""
    parts = (raw or "").split(os.pathsep)
    return tuple(
        Path(os.path.expanduser(part.strip())).absolute() for part in parts if part.strip()
    )


def words(raw: str | None) -> frozenset[str]:
    """A comma- or space-separated list; empty means "no restriction" where it is a filter."""
    if not raw:
        return frozenset()
    return frozenset(part for part in raw.replace(",", " ").split() if part)
