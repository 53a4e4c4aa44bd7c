"""What each surface's comparison test shares: settings that reach the fake Anthropic API,
the repository with checks, and what the shipped change must (and must not) hold.

The scripts are tests/compare_support.py's: sonnet breaks `add` (its check fails), opus
documents it and writes NOTES.md, haiku adds `twice` cheaply.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.config import Settings
from tests.agent_support import API_KEY
from tests.compare_support import OPUS_CALC, OPUS_NOTES, compare_tree
from tests.conftest import MakeRepo, git
from tests.fakes.anthropic import FakeAnthropic

COMPARE = "compare sonnet,opus,haiku tidy up calc"
TOO_MANY = "compare sonnet,opus,haiku,claude-code tidy up calc"
REFUSED = "That is 4 candidates; this Repobox compares at most 3 at once."


def with_models(settings: Settings, fake: FakeAnthropic) -> Settings:
    """The surface's settings, with the built-in agent's API at the fake (the session's
    own prompts still run the scripted command agent)."""
    return settings.with_changes(anthropic_base_url=fake.url, anthropic_api_key=API_KEY)


def calc_repo(settings: Settings, make_repo: MakeRepo, tmp_path: Path) -> Path:
    """The comparison tests' repository (tests/compare_support.py: one check, no autofix)."""
    return make_repo(files=compare_tree())


def assert_chosen_by_comparison(description: str, picker: str) -> None:
    """The merge request says which candidate was picked, by whom, with the table."""
    assert "## Chosen by comparison" in description
    assert f"{picker} picked **2 (opus)**" in description
    assert "| 1 | sonnet | ❌ checks fail" in description
    assert "| 2 ⭐ | opus | ✅ checks pass" in description
    assert "| 3 | haiku | ✅ checks pass · cheapest" in description


def assert_only_opus(origin: Path, branch: str) -> None:
    """The shipped branch holds candidate 2's change, and nothing of the others."""
    assert git("show", f"{branch}:calc.py", cwd=origin) == OPUS_CALC
    assert git("show", f"{branch}:NOTES.md", cwd=origin) == OPUS_NOTES
    history = git("log", "-p", f"main..{branch}", cwd=origin)
    assert "twice" not in history and "a - b" not in history
