"""GitHub Actions workflow runs on the fake GitHub, and the `workflow_run` and `check_run`
deliveries that say one completed.

Registered with `GitHubWorkflows(fake, checks)` on a `FakeGitHub` that already has
`GitHubChecks`: a workflow run is a check suite whose check runs are its jobs (on GitHub an
Actions job's id is its check run's id), so the job logs are `GitHubChecks`' routes. Routes,
as docs.github.com/rest/actions/workflow-runs#get-a-workflow-run and
docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run describe them.

The deliveries are built from GitHub's "Webhook events and payloads" page (workflow_run,
check_run; the octokit/webhooks payload examples were read for the field set): the fields
GitHub sends that Repobox or a reader of these tests might look at, not every URL field.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .base import Recorded
from .github import ApiError, FakeGitHub, User, _node_id, _now
from .github_checks import GitHubChecks, Run, Suite


@dataclass
class WorkflowRun:
    id: int
    name: str
    suite: Suite


class GitHubWorkflows:
    def __init__(self, fake: FakeGitHub, checks: GitHubChecks) -> None:
        self.fake = fake
        self.checks = checks
        self.runs: dict[int, WorkflowRun] = {}
        self._ids = itertools.count(900_001)
        fake._api("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}", self._run)
        fake._api("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", self._jobs)

    def add_run(
        self, full_name: str, branch: str, sha: str, jobs: dict[str, tuple[str, str]]
    ) -> WorkflowRun:
        """A completed workflow run on `sha`; `jobs`: name → (conclusion, log text)."""
        suite = self.checks.add_suite(full_name, branch, sha, jobs)
        with self.fake._state:
            run = WorkflowRun(next(self._ids), "CI", suite)
            self.runs[run.id] = run
            return run

    def workflow_run_delivery(self, run: WorkflowRun) -> dict[str, Any]:
        """The `workflow_run` webhook, action `completed`."""
        with self.fake._state:
            repo = self.fake._repo(run.suite.full_name)
            return {
                "action": "completed",
                "workflow_run": self._run_json(run),
                "workflow": {
                    "id": 2823525,
                    "node_id": _node_id("W", 2823525),
                    "name": run.name,
                    "path": ".github/workflows/ci.yml",
                    "state": "active",
                },
                "repository": self.fake._repo_json(repo),
                "sender": self.fake._user_json("github-actions[bot]"),
            }

    def check_run_delivery(self, suite: Suite, run: Run) -> dict[str, Any]:
        """The `check_run` webhook, action `completed`, for one run of `suite`."""
        with self.fake._state:
            repo = self.fake._repo(suite.full_name)
            body = self.checks._run_json(suite, run)
            body["check_suite"] = self.checks.suite_json(suite)
            return {
                "action": "completed",
                "check_run": body,
                "repository": self.fake._repo_json(repo),
                "sender": self.fake._user_json("github-actions[bot]"),
            }

    # -- routes ---------------------------------------------------------------------------
    def _run(self, call: Recorded, me: User) -> web.Response:
        repo = self.fake._repo_for(call, me)
        run = self._find(call.path_args["run_id"], repo.full_name)
        return self.fake._json(me, self._run_json(run))

    def _jobs(self, call: Recorded, me: User) -> web.Response:
        repo = self.fake._repo_for(call, me)
        run = self._find(call.path_args["run_id"], repo.full_name)
        jobs = [self._job_json(run, job) for job in run.suite.runs]
        return self.fake._json(me, {"total_count": len(jobs), "jobs": jobs})

    # -- helpers --------------------------------------------------------------------------
    def _find(self, ident: str, full_name: str) -> WorkflowRun:
        run = self.runs.get(int(ident)) if ident.isdigit() else None
        if run is None or run.suite.full_name.lower() != full_name.lower():
            raise ApiError(404, "Not Found")
        return run

    def _run_json(self, run: WorkflowRun) -> dict[str, Any]:
        suite = run.suite
        api = f"{self.fake.url}/repos/{suite.full_name}"
        return {
            "id": run.id,
            "name": run.name,
            "node_id": _node_id("WFR", run.id),
            "check_suite_id": suite.id,
            "check_suite_node_id": _node_id("CS", suite.id),
            "head_branch": suite.head_branch,
            "head_sha": suite.head_sha,
            "path": ".github/workflows/ci.yml",
            "run_number": run.id - 900_000,
            "run_attempt": 1,
            "event": "push",
            "status": "completed",
            "conclusion": suite.conclusion,
            "workflow_id": 2823525,
            "url": f"{api}/actions/runs/{run.id}",
            "html_url": f"https://github.com/{suite.full_name}/actions/runs/{run.id}",
            "pull_requests": [],
            "created_at": _now(),
            "updated_at": _now(),
            "jobs_url": f"{api}/actions/runs/{run.id}/jobs",
            "logs_url": f"{api}/actions/runs/{run.id}/logs",
            "check_suite_url": f"{api}/check-suites/{suite.id}",
            "artifacts_url": f"{api}/actions/runs/{run.id}/artifacts",
            "cancel_url": f"{api}/actions/runs/{run.id}/cancel",
            "rerun_url": f"{api}/actions/runs/{run.id}/rerun",
            "workflow_url": f"{api}/actions/workflows/2823525",
            "head_commit": {"id": suite.head_sha, "tree_id": suite.head_sha},
        }

    def _job_json(self, run: WorkflowRun, job: Run) -> dict[str, Any]:
        api = f"{self.fake.url}/repos/{run.suite.full_name}"
        return {
            "id": job.id,
            "run_id": run.id,
            "run_url": f"{api}/actions/runs/{run.id}",
            "run_attempt": 1,
            "node_id": _node_id("J", job.id),
            "head_sha": run.suite.head_sha,
            "head_branch": run.suite.head_branch,
            "url": f"{api}/actions/jobs/{job.id}",
            "html_url": f"https://github.com/{run.suite.full_name}/actions/runs/{run.id}/job/{job.id}",
            "status": "completed",
            "conclusion": job.conclusion,
            "created_at": _now(),
            "started_at": _now(),
            "completed_at": _now(),
            "name": job.name,
            "steps": [],
            "check_run_url": f"{api}/check-runs/{job.id}",
            "labels": ["ubuntu-latest"],
            "runner_id": None,
            "runner_name": None,
            "runner_group_id": None,
            "runner_group_name": None,
            "workflow_name": run.name,
        }
