"""Slack's outbound side: the session card and each prompt's reply, rendered from the
prompt's view (`blocks`, `comparison`, on slack_sdk's block models through `kit`), where
they live in the thread (`messages`), one pass that posts and edits them (`delivery`),
the sink the relay calls (`sink`, `stream_sink` with the native stream in `stream/`), and
the Web API calls that never fail the work (`calls`, built by `clients`, paced by
`retry_after`)."""
