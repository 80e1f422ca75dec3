"""Command grammar and handlers. Never imports nio: the bot hands in `Incoming` and
sends the `Reply` it gets back."""
