"""The outbound pipeline: a view folded from a session's events, and one relay.

Jobs and agents append `ProgressEvent`s to the session's stream (`bot.sessions.events`); the
relay (`bot.progress.relay`) follows the stream and hands new events to the session's
surface, which only renders and sends.
"""
