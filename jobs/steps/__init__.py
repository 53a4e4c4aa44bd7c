"""What a job does, step by step: drain a session's queue, run a prompt, run checks, compare,
pick, ship, undo, and keep checkpoint copies. Entry points in `jobs/` call these."""
