"""Commands Repobox starts: a guardian so nothing outlives its owner, output streamed line by
line, a run's cancel flag and deadline, and output capped to head and tail."""
