"""`paths:` globs of a check, matched against the files a run changed.

`*` stays within one folder, `**` spans folders (`**/*.py` matches `app.py` and
`bot/x/y.py`), `?` is one character. Python 3.11 has no `PurePath.full_match`, and
`fnmatch` lets `*` cross folders, so the globs are translated here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.lru_cache(maxsize=256)
def _pattern(glob: str) -> re.Pattern[str]:
    out: list[str] = []
    index = 0
    glob = glob.removeprefix("./").lstrip("/")
    while index < len(glob):
        if glob.startswith("**/", index):
            out.append("(?:[^/]*/)*")
            index += 3
        elif glob.startswith("**", index):
            out.append(".*")
            index += 2
        elif glob[index] == "*":
            out.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(glob[index]))
            index += 1
    if glob.endswith("/"):
        out.append(".*")  # a folder: everything under it
    return re.compile("".join(out))


def matches(glob: str, path: str) -> bool:
    return _pattern(glob).fullmatch(path) is not None


def first_match(globs: Iterable[str], paths: Iterable[str]) -> str | None:
    """The first changed path any glob matches, or None."""
    patterns = [_pattern(g) for g in globs]
    return next((p for p in paths if any(x.fullmatch(p) for x in patterns)), None)
