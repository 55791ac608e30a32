"""Translated texts in instrument definitions: ``{nl: ..., en: ...}``."""


def translate(text, lang: str = "nl") -> str:
    """The text in ``lang``, falling back to Dutch, then to any language."""
    if isinstance(text, str):
        return text
    if not text:
        return ""
    return text.get(lang) or text.get("nl") or next(iter(text.values()))
