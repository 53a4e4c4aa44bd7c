"""Who people are: linked accounts, sign-in (OAuth, one-time links), what a token may do,
and acting as the person on a forge."""
