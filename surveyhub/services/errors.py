"""Errors that services raise on purpose; the web and CLI faces turn them into pages and lines.

A message is an English *msgid* with named parameters, marked with :func:`N_` so that
``pybabel extract -k N_`` puts it in the catalog. Services never translate (they have no
locale and do not import Flask): the web translates at display time
(``surveyhub.web.errors.user_message``), the CLI prints ``str(exc)``, the English.

::

    ServiceError          any of them; a CLI command prints it and exits 1
      UserError           the person can put it right: routes show it beside the form or flash it
        Invalid           a value is not acceptable
        Conflict          the change clashes with what is stored (a duplicate, a used version)
      NotFound            a 404 page: it does not exist, or the actor may not know that it does
      Forbidden           a 403 page: the actor may see this but not do that

``NotFound`` and ``Forbidden`` are not user errors, so a route that flashes ``UserError``
lets them through to their error pages without re-raising them first.
"""

from __future__ import annotations


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the catalog without translating it (translated where it is shown)."""
    return msgid


class Message:
    """A msgid with named parameters; a parameter may itself be a Message or a list of them.

    Lists (one problem per line of an upload) are joined with "; " after each is translated.
    """

    def __init__(self, msgid: str, /, **params):
        self.msgid, self.params = msgid, params

    def __str__(self) -> str:
        """In English, parameters filled in (what the CLI and the log show)."""
        return self.translated(lambda msgid, **params: msgid % params if params else msgid)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"

    def translated(self, gettext) -> str:
        """In the language of ``gettext``, a ``gettext(msgid, **params)`` function such as Flask-Babel's."""
        if not self.params:
            return gettext(self.msgid)
        return gettext(self.msgid, **{name: _filled(value, gettext) for name, value in self.params.items()})


def _filled(value, gettext):
    if isinstance(value, Message):
        return value.translated(gettext)
    if isinstance(value, list) and all(isinstance(one, Message) for one in value):
        return "; ".join(one.translated(gettext) for one in value)
    return value


class ServiceError(Exception):
    """An error whose message is a :class:`Message`: ``msgid`` and ``params``."""

    #: The msgid when none is given (subclasses with one fixed message set it).
    message = ""

    def __init__(self, msgid: str | None = None, /, **params):
        self.msgid = self.message if msgid is None else msgid
        self.params = params
        super().__init__(self.msgid)

    def __str__(self) -> str:
        """The message in English (what the CLI and the log show)."""
        return str(Message(self.msgid, **self.params))

    def translated(self, gettext) -> str:
        """The message in the language of ``gettext`` (see :meth:`Message.translated`)."""
        return Message(self.msgid, **self.params).translated(gettext)


class UserError(ServiceError):
    """Something the person who acted can put right; shown to them, in their language."""


class Invalid(UserError):
    """A value given is not acceptable (an unknown wave, an empty name, a number out of range)."""


class Conflict(UserError):
    """The change clashes with what is stored (a duplicate, a used version)."""


class NotFound(ServiceError):
    """The thing does not exist, or the actor may not know it exists."""


class Forbidden(ServiceError):
    """The actor may see this but not do that."""
