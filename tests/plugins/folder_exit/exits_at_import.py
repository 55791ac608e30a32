"""A plugin that ends the process while it is imported (a script's habit, copied into a plugin)."""

import sys

sys.exit(3)
