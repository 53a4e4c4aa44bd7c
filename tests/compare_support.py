"""A comparison the tests can script: three models of the built-in agent, each different.

On a small repository with one required check (`compare_tree`): `sonnet` breaks `add` (its
required check fails), `opus` fixes the docstring and adds notes (more files, dearer), `haiku`
changes one file cheaply. Every surface's comparison test plays the same scripts.
"""

from __future__ import annotations

from pathlib import Path

from tests.checks_repo import CALC, TEST_CALC
from tests.fakes.anthropic import FakeAnthropic, Reply, TokenUsage

# One required check, with the system interpreter (seen inside a sandbox too), no setup and
# no lint: what a comparison's tests need of checks is a verdict per candidate, quickly.
CHECKS = "checks:\n  - name: tests\n    run: python3 -m unittest -q\n    required: true\n"
MODELS = {"sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5", "haiku": "claude-haiku-5-5"}
SONNET_CALC = "def add(a, b):\n    return a - b\n"
OPUS_CALC = 'def add(a, b):\n    """The sum of a and b."""\n    return a + b\n'
HAIKU_CALC = CALC + "\n\ndef twice(a):\n    return add(a, a)\n"
OPUS_NOTES = "# Notes\n\n`add` is documented now.\n"


def script_candidates(fake: FakeAnthropic) -> None:
    """One scripted run per model: a write (or two), then a closing summary."""
    fake.script_for(
        MODELS["sonnet"],
        Reply.tool_use(
            "write_file", {"path": "calc.py", "content": SONNET_CALC},
            usage=TokenUsage(2000, 300),
        ),
        Reply.text("Rewrote add.", usage=TokenUsage(2500, 50)),
    )  # fmt: skip
    fake.script_for(
        MODELS["opus"],
        Reply.tool_use(
            "write_file", {"path": "calc.py", "content": OPUS_CALC}, usage=TokenUsage(3000, 400)
        ),
        Reply.tool_use(
            "write_file", {"path": "NOTES.md", "content": OPUS_NOTES}, usage=TokenUsage(3500, 200)
        ),
        Reply.text("Documented add and wrote notes.", usage=TokenUsage(4000, 60)),
    )
    fake.script_for(
        MODELS["haiku"],
        Reply.tool_use(
            "write_file", {"path": "calc.py", "content": HAIKU_CALC}, usage=TokenUsage(900, 100)
        ),
        Reply.text("Added twice.", usage=TokenUsage(1000, 20)),
    )


def compare_tree() -> dict[str, str]:
    """The repository every comparison test starts from: `calc.py`, its test, one check."""
    return {
        "calc.py": CALC,
        "test_calc.py": TEST_CALC,
        "README.md": "# calc\n",
        ".repobox.yml": CHECKS,
    }


def recorded(pids: Path) -> list[int]:
    """The pids the candidates' `echo $$ > FILE` wrote so far: a file the shell has opened
    but not yet written holds nothing, and does not count."""
    return [int(text) for p in pids.iterdir() if (text := p.read_text().strip())]
