"""The worker process: RQ's worker on our queues, the job context it builds once, and its
maintenance (watchdog, lost hosts, disk space)."""
