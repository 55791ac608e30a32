"""Guards for the objects plugins hand SurveyHub: wrapped once, where they are registered.

A plugin's scoring method, question type or exporter is called far from where
it was registered: while a resident saves a page, while a worker imports
answers or downloads an export. Each is wrapped once, when the registry (or
the export list) takes it in, in a guard whose methods catch what the plugin
raises, report it to the plugin host (``PluginHost.fail``: the status every
worker process shows on the admin plugins page) and return a safe fallback.
So no caller needs a ``try``/``except`` around plugin code, and no failure
goes only to the log.

What each guard falls back to:

- scoring method: ``None`` (the scale is left unscored; the answers stay);
- question type: ``make_field`` ``None`` (the item is not shown),
  ``code`` the text the resident sent (scored as unanswered; a ``ValueError``
  is the resident's message and passes through), ``value_range`` ``None``;
- exporter: ``write`` raises :class:`PluginFailed` (a user error saying which
  plugin failed): half a file is no fallback.

Built-in objects (registered by ``surveyhub.*``) are not wrapped: they are
SurveyHub's own code, and a bug there should show as one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from surveyhub.measures.questions import raw_text
from surveyhub.services.errors import N_, UserError


class Reporter(Protocol):
    """What a guard needs of the plugin host."""

    def fail(self, name: str, message: str, state: str = "failed", hook: str | None = None) -> None: ...


class PluginFailed(UserError):
    """A plugin's exporter failed; the person sees which plugin, the admin page shows the details."""


def describe(exc: BaseException) -> str:
    """``Type: message`` on one line; ``sys.exit()`` is named as such."""
    if isinstance(exc, SystemExit):
        return f"the plugin called sys.exit({'' if exc.code is None else repr(exc.code)})"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def bounded(function: Callable[..., Any], timeout: float | None) -> Callable[..., Any]:
    """``function`` run in a thread of its own; ``TimeoutError`` when it has not returned after ``timeout`` s.

    Used while a resident saves: scoring runs inside the save's write
    transaction, so a plugin that hangs would hold up the resident and, on
    SQLite, every other writer too. The thread is left to finish on its own;
    its result is not used. What the function raises is raised again.
    ``timeout`` None: called as it is.
    """
    if timeout is None:
        return function

    def call(*args: Any) -> Any:
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = function(*args)
            except BaseException as exc:  # noqa: B036 - handed to the caller, who reports it
                box["error"] = exc

        worker = threading.Thread(target=run, name="plugin call", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise TimeoutError(f"did not finish within {timeout:g} s")
        if "error" in box:
            raise box["error"]
        return box.get("result")
    return call


def plugin_crash(exc: BaseException) -> bool:
    """What a plugin may raise without taking the app down: anything but Ctrl+C.

    ``SystemExit`` (a plugin calling ``sys.exit()``) counts as a plugin failure too.
    """
    return not isinstance(exc, KeyboardInterrupt)


class GuardedMethod:
    """A plugin's scoring method ``(values, scale) -> float | None``; ``None`` when it fails."""

    def __init__(self, host: Reporter, plugin: str, name: str, method: Callable[..., Any],
                 timeout: float | None = None):
        self.host, self.plugin, self.name = host, plugin, name
        self.method = method
        self._call = bounded(method, timeout)

    def __call__(self, values: dict, scale: dict) -> float | None:
        try:
            score = self._call(values, scale)
        except BaseException as exc:
            if not plugin_crash(exc):
                raise
            self._report(f"raised {describe(exc)}")
            return None
        if score is None:
            return None
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            self._report(f"returned {type(score).__name__}, not a number")
            return None
        return float(score)

    def _report(self, what: str) -> None:
        self.host.fail(self.plugin, f"scoring method {self.name!r} {what}", state="error",
                       hook=f"scoring method {self.name}")


class GuardedQuestionType:
    """A plugin's question type whose failures are reported and never cost the resident an answer."""

    def __init__(self, host: Reporter, plugin: str, name: str, qtype: Any, timeout: float | None = None):
        self.host, self.plugin, self.name = host, plugin, name
        self.qtype = qtype
        self.scored = bool(qtype.scored)
        self._code = bounded(qtype.code, timeout)

    def make_field(self, item: dict, context: dict) -> Any:
        """The type's WTForms field, or ``None`` (the item is left out of the page) when it fails."""
        try:
            return self.qtype.make_field(item, context)
        except BaseException as exc:
            if not plugin_crash(exc):
                raise
            self._report(f"question type {self.name!r} failed to render: {describe(exc)}")
            return None

    def code(self, item: dict, raw: Any, context: dict) -> float | str | None:
        """The stored value; what the resident sent, as text, when the type breaks.

        ``ValueError`` (the answer is not acceptable) is the resident's message
        and is raised as it is. Scoring reads a kept text as unanswered, so no
        made-up number enters a score.
        """
        try:
            return self._code(item, raw, context)
        except ValueError:
            raise
        except BaseException as exc:
            if not plugin_crash(exc):
                raise
            kept = raw_text(raw)
            failed = f"question type {self.name!r} failed on item {item.get('id')!r} ({describe(exc)})"
            self._report(f"{failed}; the answer was kept as the text sent" if kept is not None else failed)
            return kept

    def value_range(self, item: dict, context: dict) -> tuple[float, float] | None:
        """The type's range, or ``None`` (the chart leaves the scale out) when it fails."""
        try:
            return self.qtype.value_range(item, context)
        except BaseException as exc:
            if not plugin_crash(exc):
                raise
            self._report(f"question type {self.name!r}: value_range raised {describe(exc)}")
            return None

    def __getattr__(self, name: str) -> Any:  # anything else the type offers (labels, helpers)
        return getattr(self.qtype, name)

    def _report(self, message: str) -> None:
        self.host.fail(self.plugin, message, state="error", hook=f"question type {self.name}")


class GuardedExporter:
    """A plugin's export format; a failing ``write`` is reported and raised as :class:`PluginFailed`."""

    def __init__(self, host: Reporter, plugin: str, name: str, exporter: Any):
        self.host, self.plugin, self.name = host, plugin, name
        self.exporter = exporter
        self.extension: str = exporter.extension
        self.mimetype: str = exporter.mimetype

    def write(self, table: Any, stream: Any) -> None:
        try:
            self.exporter.write(table, stream)
        except BaseException as exc:
            if not plugin_crash(exc):
                raise
            self.host.fail(self.plugin, f"export format of {self.plugin} failed: {describe(exc)}", state="error",
                           hook=f"export format {self.name}")
            raise PluginFailed(N_("export format of %(plugin)s failed: %(error)s"), plugin=self.plugin,
                               error=describe(exc)) from exc
