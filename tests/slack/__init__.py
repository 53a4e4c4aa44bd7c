"""Tests of the Slack surface."""
