"""Git: mirror cache, workdirs (with a pool of ready ones), checkpoints, push.

Git runs as a subprocess through one runner, so credentials travel only in the
environment, every call has a timeout, and every error message is redacted.
"""
