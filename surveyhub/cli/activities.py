"""(Being built for issue 14.)"""

COMMANDS: list = []
