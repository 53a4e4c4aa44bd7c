"""Per-turn overhead of the built-in agent's loop, outside model time.

The agent runs N turns against the fake Anthropic API with no delay (each turn reads a
small file); then the very requests it sent are replayed with the bare SDK against the
same fake, with the same replies. The difference per turn is what the loop itself costs:
building the request, reading the stream into a turn, the tool call and its step event.
The `run` tool is measured apart, since its cost is a process start (and a sandbox).

    python bench/agent_overhead.py [turns]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anthropic

from bot.agents.anthropic import AnthropicAgent
from bot.agents.base import RunRequest
from bot.agents.run_tool import run_command
from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.security.sandbox import sandbox_for
from bot.sessions.session import Person, Session, Thread
from tests.fakes.anthropic import FakeAnthropic, Reply

KEY = "sk-ant-bench"
ROUNDS = 5


def script(fake: FakeAnthropic, turns: int) -> None:
    calls = [Reply.tool_use("read_file", {"path": "README.md"}) for _ in range(turns - 1)]
    fake.script(*calls, Reply.text("Read it many times."))


Timing = tuple[float, float]  # wall-clock seconds, CPU seconds of this (the client's) thread


def agent_turns(fake: FakeAnthropic, settings: Settings, request: RunRequest, turns: int) -> Timing:
    script(fake, turns)
    agent = AnthropicAgent(settings)
    wall, cpu = time.perf_counter(), time.thread_time()
    for _event in agent.run(request, RunControl(3600)):
        pass
    return time.perf_counter() - wall, time.thread_time() - cpu


def bare_sdk(fake: FakeAnthropic, bodies: list[dict[str, Any]]) -> Timing:
    script(fake, len(bodies))
    with anthropic.Anthropic(api_key=KEY, base_url=fake.url, max_retries=0) as client:
        wall, cpu = time.perf_counter(), time.thread_time()
        for body in bodies:
            params = {k: v for k, v in body.items() if k != "stream"}
            for _event in client.messages.create(**params, stream=True):
                pass
        return time.perf_counter() - wall, time.thread_time() - cpu


def run_tool(settings: Settings, workdir: Path, times: int) -> float:
    control = RunControl(3600)
    sandbox = sandbox_for(settings)
    started = time.perf_counter()
    for _ in range(times):
        for _event in run_command(settings, workdir, control, sandbox, "true"):
            pass
    return (time.perf_counter() - started) / times


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic(api_key=KEY) as fake:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        (workdir / "README.md").write_text("# Bench\n" + "Some words.\n" * 40)
        subprocess.run(["git", "init", "-q", str(workdir)], check=True)
        settings = Settings(
            data_dir=Path(tmp) / "data",
            anthropic_api_key=KEY,
            anthropic_base_url=fake.url,
            max_turns=turns + 1,
            max_tokens=10**12,
            sandbox="off",
        )
        person = Person("U1", "Bench")
        session = Session("s1", "bench", "local", "bench", None, "b", Thread("cli", "t"), person)
        request = RunRequest("read the README", workdir, session, person)
        loop: list[Timing] = []
        bare: list[Timing] = []
        for _ in range(ROUNDS):
            before = len(fake.requests())
            loop.append(agent_turns(fake, settings, request, turns))
            bodies = fake.requests()[before:]
            bare.append(bare_sdk(fake, bodies))
        plain = run_tool(settings, workdir, 20)
        boxed = run_tool(settings.with_changes(sandbox="auto"), workdir, 20)
    print(f"{turns} turns per run, fake model with no delay, best of {ROUNDS} runs")
    for label, index in (("wall clock", 0), ("client thread CPU", 1)):
        # the best of several runs: the floor is what the code costs, the rest is noise
        agent_ms = min(t[index] for t in loop) / turns * 1e3
        sdk_ms = min(t[index] for t in bare) / turns * 1e3
        print(f"  {label}:")
        print(f"    bare SDK, the agent's own requests: {sdk_ms:7.2f} ms per call")
        print(f"    agent loop (read_file each turn):   {agent_ms:7.2f} ms per turn")
        print(
            f"    loop overhead outside model time:   {agent_ms - sdk_ms:7.2f} ms per turn "
            f"({agent_ms / sdk_ms:.2f}x the bare call)"
        )
    print(f"  run tool, `true`:                   {plain * 1e3:7.2f} ms per call")
    print(f"  run tool, `true` in bubblewrap:     {boxed * 1e3:7.2f} ms per call")


if __name__ == "__main__":
    main()
