"""The outbound side of each surface: progress sinks that render events as replies."""
