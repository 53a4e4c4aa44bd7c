"""A tiny stand-in for a CLI coding agent, driven by its prompt (read on stdin, as every
`command` agent gets it).

Each line of the prompt is one instruction:
  write PATH: TEXT      replace PATH's content with TEXT (and a newline)
  append PATH: TEXT     add TEXT as a line at the end of PATH
  print N               print N numbered lines on stdout
  stderr TEXT           print TEXT on stderr
  sleep SECONDS         sleep, printing a line every 0.2 s
  await PATH            wait (printing a line every 0.2 s) until PATH exists: a run held
                        for exactly as long as a test needs it running, at most 120 s
  fail CODE             exit with CODE
  pidfile PATH          write this process's group id (its guardian's pid) to PATH
  spawn                 start a child that sleeps forever in the same process group
  context PATH          copy the file REPOBOX_CONTEXT_FILE names to PATH ("none" if unset)
  prompt PATH           write the whole prompt as received (context preamble included) to PATH
  own PATH              copy the file REPOBOX_PROMPT_FILE names (the person's words) to PATH
  env PATH              write this process's environment to PATH, one NAME=value a line
  redis URL ARGS…       send one command to the Redis at URL (fault tests: refuse writes now)
Anything else is echoed. The last stdout line is the run's summary.

Handed failing checks ("The required checks fail…", from `fix the checks` or an autofix
round), it follows the instructions in ./FIX.txt instead, when an earlier prompt left one:
a scripted agent that fixes what it broke once it is told about the failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

AWAIT_AT_MOST = 120.0


def main() -> int:
    prompt = handed(sys.stdin.read())
    for raw in prompt.splitlines():
        line = raw.strip()
        word, _, rest = line.partition(" ")
        if word in ("write", "append"):
            path, _, text = rest.partition(":")
            target = Path(path.strip())
            target.parent.mkdir(parents=True, exist_ok=True)
            mode = "w" if word == "write" else "a"
            with target.open(mode) as handle:
                handle.write(text.strip() + "\n")
            print(f"{word} {target}", flush=True)
        elif word == "print":
            for i in range(int(rest)):
                print(f"line {i + 1}", flush=True)
        elif word == "stderr":
            print(rest, file=sys.stderr, flush=True)
        elif word in ("sleep", "await"):
            hold(word, rest)
        elif word == "fail":
            print("giving up", file=sys.stderr, flush=True)
            return int(rest or 1)
        elif word == "pidfile":  # whole or absent: tests wait for it to exist, then read it
            Path(f"{rest}.part").write_text(str(os.getpgrp()))
            os.replace(f"{rest}.part", rest)
        elif word in ("context", "prompt", "own", "redis", "env"):
            dump(word, rest, prompt)
        elif word == "spawn":
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        elif line:
            print(line, flush=True)
    print(f"Did {len([r for r in prompt.splitlines() if r.strip()])} things.", flush=True)
    return 0


def hold(word: str, rest: str) -> None:
    """`sleep SECONDS` or `await PATH`, printing a line every 0.2 s meanwhile."""
    seconds, gate = (float(rest), None) if word == "sleep" else (AWAIT_AT_MOST, Path(rest))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (gate and gate.exists()):
        print("working…" if gate is None else "waiting…", flush=True)
        time.sleep(0.2)


def handed(prompt: str) -> str:
    """Failing checks handed back: what ./FIX.txt says to do, when there is one."""
    if "The required checks fail" in prompt and Path("FIX.txt").is_file():
        return Path("FIX.txt").read_text()
    return prompt


def send_redis(rest: str) -> None:
    """Fault tests: make Redis misbehave at an exact moment of a run (e.g. refuse writes)."""
    import redis  # only the fault tests use this; agents need no Redis otherwise

    url, *command = rest.split()
    redis.Redis.from_url(url).execute_command(*command)
    print(f"redis {' '.join(command)}", flush=True)


def dump(word: str, path: str, prompt: str) -> None:
    """Let a test see what the agent was given (its context file, its prompt, its
    environment), or make Redis misbehave."""
    if word == "env":
        Path(path).write_text("".join(f"{k}={v}\n" for k, v in sorted(os.environ.items())))
        return
    if word == "redis":
        send_redis(path)
        return
    if word == "prompt":
        Path(path).write_text(prompt)
        return
    source = os.environ.get("REPOBOX_CONTEXT_FILE" if word == "context" else "REPOBOX_PROMPT_FILE")
    Path(path).write_text(Path(source).read_text() if source else "none")


if __name__ == "__main__":
    sys.exit(main())
