"""The state layer: sessions, their prompt queues, run state, the lease, the event stream and
the typed values stored with them. Everything a session is lives in Redis and is changed
here, through the stores and their Lua scripts (all in `scripts.py`); nothing above writes a
session key itself."""
