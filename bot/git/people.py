"""Who a commit is for: the person whose words it carries, as git's trailers name them.

A structural type, so git needs nothing from the session layer above it
(`bot.sessions.session.Person` is one).
"""

from __future__ import annotations

from typing import Protocol


class Author(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def co_author(self) -> str:
        """`Name <email>` for a `Co-authored-by:` trailer."""
        ...
