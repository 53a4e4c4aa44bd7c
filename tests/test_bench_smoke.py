"""Every bench/ script at a smoke size, so a change that breaks one fails the suite.

Each runs as a person runs it (`python bench/NAME.py …`, a fresh process) at a size that
takes seconds, and is held only to finishing (exit 0) and printing its figures: the
numbers themselves are the bench's business at full size, not the suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

# two hosts of one worker, two sessions: the multi-host path, in about half a minute
SCALE_SMOKE = ["--sessions", "2", "--small", "0", "--think", ".1", "--hosts", "2", "--workers", "1"]
# script, smoke arguments, a line every full run prints with its figures
SMOKE: list[tuple[str, list[str], str]] = [
    ("ack_floor.py", ["--requests", "20", "--serial", "5"], "ratio to floor at C=1"),
    ("agent_overhead.py", ["3"], "ms per turn"),
    ("api_overhead.py", ["--requests", "20"], "API / Slack (medians)"),
    ("checks.py", ["1", "--no-setup"], "time the checks add to a run"),
    ("checks_run.py", ["1"], "the checks add:"),
    ("compare.py", ["20", "0"], "side by side, 3 candidates"),
    ("credentials.py", ["20"], "credential seal"),
    ("egress.py", ["--runs", "2"], "ratio:"),
    ("faults.py", ["sigkill_of_the_job_process"], "| fault | sent |"),
    ("fuzz_routes.py", ["--requests", "30", "--times", "2", "--old-letters", "2000"], "redaction"),
    ("host_loss.py", ["--files", "20", "--timeout", "3", "--beat", "0.5"], "Moved to host-b"),
    ("listing.py", ["--sessions", "300", "--baseline", "30", "--repeat", "5"], "mine (1 in 500)"),
    ("page_latency.py", ["--readers", "2", "--events", "10", "--mode", "sse"], "2 reader(s)"),
    ("process_containment.py", ["1"], "cancel → tree gone"),
    ("review.py", ["--lines", "60"], "input tokens in all"),
    ("scale.py", SCALE_SMOKE, "Tier 3 in all"),
    ("session_ready.py", ["--files", "20", "--runs", "1"], "warm session ready"),
    ("slack_ack.py", ["--requests", "10", "--lines", "20", "--seconds", "1"], "429s"),
    ("slack_stream.py", ["--lines", "20", "--seconds", "1"], "lag from a line to the call"),
    ("triggers.py", ["--runs", "1"], "failed CI webhook → fix prompt started: p50"),
]  # fmt: skip


def test_every_bench_script_has_a_smoke_size() -> None:
    scripts = {path.name for path in (ROOT / "bench").glob("*.py")}
    assert scripts == {name for name, _, _ in SMOKE}


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize(("script", "args", "figures"), SMOKE, ids=[s for s, _, _ in SMOKE])
def test_bench_script_runs_at_smoke_size(script: str, args: list[str], figures: str) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REPOBOX_", "SLACK_", "GITLAB_", "GITHUB_", "ANTHROPIC_"))
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, (
        f"{script} exited {done.returncode} after {took:.0f} s:\n{output[-4000:]}"
    )
    assert figures in done.stdout, f"{script} printed no figures ({figures!r}):\n{output[-4000:]}"
