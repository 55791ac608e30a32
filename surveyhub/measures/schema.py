"""Kept for plugins only: ``from surveyhub.measures.schema import translate`` was the documented import.

The instrument code now lives in ``definition`` (the shape of a definition),
``yaml_loader`` (safe YAML loading) and ``validation``; new code imports
``translate`` from ``surveyhub.measures.definition``.
"""

from surveyhub.measures.definition import translate

__all__ = ["translate"]
