"""The merge request's title and description, as reviewers read them."""

from __future__ import annotations

from bot.checks.results import CheckReport, CheckResult, CheckStatus
from bot.surfaces.forge.description import AskedPrompt, Override, Usage, description, title

PROMPTS = (
    AskedPrompt(
        "make the github client retry on 502",
        "Ada",
        "Added retries to the GitHub client.\n\nThree tries, growing pauses.",
        "1a2b3c4d5e6f7a8b",
        ("bot/retry.py",),
    ),
    AskedPrompt("fix the typo in the README", "Grace", None, "9f8e7d6c5b4a", ("README.md",)),
)
REPORT = CheckReport(
    commit="9f8e7d6c5b4a3210",
    results=(
        CheckResult("tests", CheckStatus.PASSED, True, 12.34),
        CheckResult("lint | style", CheckStatus.FAILED, False, 1.0, exit_code=1),
        CheckResult("docs", CheckStatus.SKIPPED, True, reason="no changed file matches docs/"),
    ),
    source="main@abcdef1234",
)


def test_the_title_sums_up_the_runs_in_the_imperative() -> None:
    assert title(PROMPTS, "repobox/1-x") == (
        "Add retries to the GitHub client; fix the typo in the README"
    )
    assert title(PROMPTS[:1], "repobox/1-x") == "Add retries to the GitHub client"
    assert title((), "repobox/1-x") == "repobox/1-x"
    many = tuple(
        AskedPrompt(f"rename module number {n} to something clearer", "Ada") for n in range(4)
    )
    assert title(many, "b") == "Rename module number 0 to something clearer and 3 more"
    assert all(len(title(p, "b")) <= 72 for p in (PROMPTS, many))


def test_the_description_has_asks_summaries_checks_usage_link_and_closes() -> None:
    text = description(
        opened_for="Ada",
        prompts=PROMPTS,
        report=REPORT,
        usage=Usage(tokens=123_456, cost_usd=0.4213),
        live_url="https://repobox.test/s/abc",
        closes="#12",
    )
    assert text == (
        "Opened by Repobox for Ada.\n"
        "\n"
        "## What was asked\n"
        "\n"
        "1. **Ada**: make the github client retry on 502\n"
        "2. **Grace**: fix the typo in the README\n"
        "\n"
        "## What was done\n"
        "\n"
        "1. (`1a2b3c4d5e`)\n"
        "   > Added retries to the GitHub client.\n"
        "   >\n"
        "   > Three tries, growing pauses.\n"
        "\n"
        "## Checks\n"
        "\n"
        "| Check | Result | Duration | Commit |\n"
        "| --- | --- | --- | --- |\n"
        "| tests (required) | ✅ passed | 12.3 s | `9f8e7d6c5b` |\n"
        "| lint \\| style (optional) | ❌ failed | 1.0 s | `9f8e7d6c5b` |\n"
        "| docs (required) | ⏭️ skipped | 0.0 s | `9f8e7d6c5b` |\n"
        "\n"
        "All required checks pass. Checks declared in `.repobox.yml` on main@abcdef1234.\n"
        "\n"
        "Tokens: 123,456 · $0.42\n"
        "Live log: https://repobox.test/s/abc\n"
        "\n"
        "Closes #12\n"
    )


def test_ship_it_anyway_is_recorded_with_who_and_which_checks() -> None:
    failing = CheckReport(
        commit="abc",
        results=(CheckResult("tests", CheckStatus.FAILED, True, 3.0, exit_code=1),),
    )
    text = description(
        opened_for="Ada",
        prompts=PROMPTS[:1],
        report=failing,
        override=Override(by="Grace", failing=("tests",)),
    )
    assert (
        "> ⚠️ **Shipped with failing checks**: Grace chose “ship it anyway” while `tests` "
        "did not pass."
    ) in text
    assert "| tests (required) | ❌ failed | 3.0 s | `abc` |" in text
    assert "Required checks fail." in text
    assert "Closes" not in text and "Tokens" not in text


def test_a_failed_setup_shows_in_the_table_and_no_checks_means_no_table() -> None:
    report = CheckReport(
        commit="abc",
        setup=CheckResult("setup", CheckStatus.FAILED, True, 40.0, exit_code=1, setup=True),
        results=(CheckResult("tests", CheckStatus.ERROR, True, reason="the setup did not pass"),),
    )
    text = description(opened_for="Ada", prompts=PROMPTS, report=report)
    assert "| setup | ❌ failed | 40.0 s | `abc` |" in text
    assert "| tests (required) | ⚠️ could not run | 0.0 s | `abc` |" in text
    empty = description(opened_for="Ada", prompts=PROMPTS, report=CheckReport(commit="abc"))
    assert "## Checks" not in empty
