"""Repobox's domain and outbound side: sessions, progress, git, agents, providers."""
