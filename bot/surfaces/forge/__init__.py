"""GitLab's and GitHub's outbound side: one progress comment per prompt, rendered from
the prompt's view (`card`) and written, paced, by the sink the relay calls (`sink`)."""
