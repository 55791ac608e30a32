"""Files starting with '_' are helpers, never loaded as plugins."""

raise RuntimeError("_shared.py must not be loaded as a plugin")
