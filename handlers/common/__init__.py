"""What the HTTP surfaces share: the web context, untrusted payload readers, outage answers."""
