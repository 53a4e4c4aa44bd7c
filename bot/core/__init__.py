"""The platform every other layer stands on: settings, errors, logs and redaction, Redis keys
and connections, the embedded Valkey, health, disk space, the job queue and the supervisor."""
