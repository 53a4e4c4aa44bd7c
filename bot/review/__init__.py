"""Reviews of a merge request: the diff's commentable lines, where each finding is posted,
the summary, the checkout and the rules the reviewer reads."""
