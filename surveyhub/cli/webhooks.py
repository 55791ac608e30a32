"""``surveyhub webhooks``: webhook endpoints and deliveries (being written)."""

COMMANDS: list = []
