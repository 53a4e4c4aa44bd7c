"""Slack's outbound side: the session card and each prompt's reply, rendered from the
prompt's view (`blocks`), where they live in the thread (`messages`), one pass that
posts and edits them (`delivery`), the sink the relay calls (`sink`), and the Web API
calls that never fail the work (`calls`)."""
