"""GitHub check suites and Actions job logs on the fake GitHub, and the `check_suite`
delivery that says one completed.

Registered on an existing `FakeGitHub` with `GitHubChecks(fake)`. Routes, as
docs.github.com/rest/checks/runs#list-check-runs-in-a-check-suite and
docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run describe
them: the suite's runs (`{"total_count", "check_runs"}`), and a job's logs as a 302 to a
short-lived plain-text file (here `/job-logs/{job_id}` on the fake itself; on GitHub a
signed URL on another host, fetched without the token). An Actions check run's id is its
job's id, as on GitHub.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .base import Recorded
from .github import ApiError, FakeGitHub, User, _node_id, _now


@dataclass
class Run:
    id: int
    name: str
    conclusion: str
    log: str


@dataclass
class Suite:
    id: int
    full_name: str
    head_branch: str
    head_sha: str
    conclusion: str
    runs: list[Run] = field(default_factory=list)


class GitHubChecks:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.suites: dict[int, Suite] = {}
        self.log_reads: list[dict[str, str]] = []  # headers of each log file download
        self._ids = itertools.count(7001)
        fake._api(
            "GET", "/repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs", self._runs
        )
        fake._api("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs", self._logs)
        fake.route("GET", "/job-logs/{job_id}", self._log_file)

    def add_suite(
        self, full_name: str, branch: str, sha: str, runs: dict[str, tuple[str, str]]
    ) -> Suite:
        """A completed suite on `sha`; `runs`: name → (conclusion, log text)."""
        with self.fake._state:
            suite = Suite(next(self._ids), full_name, branch, sha, "success")
            for name, (conclusion, log) in runs.items():
                suite.runs.append(Run(next(self._ids), name, conclusion, log))
            failed = any(r.conclusion in ("failure", "timed_out") for r in suite.runs)
            suite.conclusion = "failure" if failed else "success"
            self.suites[suite.id] = suite
            return suite

    def suite_json(self, suite: Suite) -> dict[str, Any]:
        """What every webhook says of a completed suite (`check_suite`, a run's suite)."""
        return {
            "id": suite.id,
            "node_id": _node_id("CS", suite.id),
            "head_branch": suite.head_branch,
            "head_sha": suite.head_sha,
            "status": "completed",
            "conclusion": suite.conclusion,
            "url": f"{self.fake.url}/repos/{suite.full_name}/check-suites/{suite.id}",
            "before": None,
            "after": suite.head_sha,
            "pull_requests": [],
            "app": None,
            "created_at": _now(),
            "updated_at": _now(),
        }

    def delivery(self, suite: Suite) -> dict[str, Any]:
        """The `check_suite` webhook for a completed suite."""
        with self.fake._state:
            repo = self.fake._repo(suite.full_name)
            return {
                "action": "completed",
                "check_suite": {
                    **self.suite_json(suite),
                    "latest_check_runs_count": len(suite.runs),
                    "check_runs_url": (
                        f"{self.fake.url}/repos/{suite.full_name}/check-suites/{suite.id}/check-runs"
                    ),
                    "head_commit": {"id": suite.head_sha, "tree_id": suite.head_sha},
                },
                "repository": self.fake._repo_json(repo),
                "sender": self.fake._user_json("github-actions[bot]"),
            }

    # -- routes ---------------------------------------------------------------------------
    def _runs(self, call: Recorded, me: User) -> web.Response:
        repo = self.fake._repo_for(call, me)
        suite = self._suite(call.path_args["check_suite_id"], repo.full_name)
        runs = [self._run_json(suite, run) for run in suite.runs]
        return self.fake._json(me, {"total_count": len(runs), "check_runs": runs})

    def _logs(self, call: Recorded, me: User) -> web.Response:
        repo = self.fake._repo_for(call, me)
        run = self._run(call.path_args["job_id"], repo.full_name)
        location = f"{self.fake.url}/job-logs/{run.id}?sig=fake-signature"
        return web.Response(status=302, headers={"Location": location})

    async def _log_file(self, request: web.Request, call: Recorded) -> web.StreamResponse:
        with self.fake._state:
            self.log_reads.append(dict(call.headers))
            try:
                run = self._run(call.path_args["job_id"], None)
            except ApiError:
                return web.Response(status=404, text="The specified blob does not exist.")
            return web.Response(text=run.log, content_type="text/plain")

    # -- helpers --------------------------------------------------------------------------
    def _suite(self, ident: str, full_name: str) -> Suite:
        suite = self.suites.get(int(ident)) if ident.isdigit() else None
        if suite is None or suite.full_name.lower() != full_name.lower():
            raise ApiError(404, "Not Found")
        return suite

    def _run(self, ident: str, full_name: str | None) -> Run:
        for suite in self.suites.values():
            if full_name is not None and suite.full_name.lower() != full_name.lower():
                continue
            for run in suite.runs:
                if str(run.id) == ident:
                    return run
        raise ApiError(404, "Not Found")

    def _run_json(self, suite: Suite, run: Run) -> dict[str, Any]:
        base = f"{self.fake.url}/repos/{suite.full_name}"
        return {
            "id": run.id,
            "head_sha": suite.head_sha,
            "node_id": _node_id("CR", run.id),
            "external_id": str(run.id),
            "url": f"{base}/check-runs/{run.id}",
            "html_url": f"https://github.com/{suite.full_name}/actions/runs/1/job/{run.id}",
            "details_url": f"https://github.com/{suite.full_name}/actions/runs/1/job/{run.id}",
            "status": "completed",
            "conclusion": run.conclusion,
            "started_at": _now(),
            "completed_at": _now(),
            "output": {
                "title": None,
                "summary": None,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{base}/check-runs/{run.id}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": suite.id},
            "app": None,
            "pull_requests": [],
        }
