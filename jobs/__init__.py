"""RQ entry points: plain functions with JSON arguments (ids, never secrets)."""
