"""Run a render with a budget of time and memory, in a child process that can be stopped.

WeasyPrint cannot be interrupted from the outside, and a layout can grow
without bound (thousands of cards, a hostile image). A web request must end
well inside the worker timeout, so the web renders through :func:`run`: the
work runs in a forked child (it starts with this process's fonts, stylesheets
and the prepared data already in memory, nothing is pickled on the way in),
its address space is capped, and it is killed when the time is up. The result
comes back through a pipe; a child that is killed or fails raises
:class:`OverBudget` or :class:`RenderFailed`, and nothing half-made is returned.

Where ``fork`` is not available (Windows, macOS defaults) the work runs in
this process with no budget: those are development machines, not servers.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """At most ``seconds`` of wall-clock time and ``memory_mb`` more memory than this process has now."""

    seconds: float = 20.0
    memory_mb: int = 1024


class OverBudget(Exception):
    """The work took longer or needed more memory than its budget; it was stopped."""


class RenderFailed(Exception):
    """The work raised in the child process; the message is its exception, in one line."""


def run(work: Callable[[], Any], budget: Budget | None) -> Any:
    """``work()`` within ``budget`` (``None``: here, unbounded). Its result must be picklable."""
    if budget is None or not _can_fork():
        return work()
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, send, _memory_limit(budget.memory_mb)), daemon=True)
    gc.freeze()  # the child's collector leaves the objects it inherits alone, so it does not copy their pages
    try:
        child.start()
    finally:
        gc.unfreeze()
    send.close()
    try:
        if not receive.poll(budget.seconds):
            raise OverBudget(f"stopped after {budget.seconds:g} s")
        try:
            status, value = receive.recv()
        except EOFError:  # the child died without a word: out of memory, or killed
            raise OverBudget(f"stopped: more than {budget.memory_mb} MB of memory") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if status == "ok":
        return value
    if status == "memory":
        raise OverBudget(f"stopped: more than {budget.memory_mb} MB of memory")
    raise RenderFailed(value)


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _memory_limit(memory_mb: int) -> int | None:
    """This process's address space now plus the budget, in bytes (Linux only)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") + memory_mb * 1024 * 1024


def _child(work: Callable[[], Any], send, limit: int | None) -> None:
    if limit is not None:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result = ("ok", work())
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it there
        log.debug("render in child failed: %s", traceback.format_exc())
        result = ("error", " ".join(str(exc).split())[:500] or type(exc).__name__)
    try:
        send.send(result)
    except MemoryError:
        send.send(("memory", None))
    finally:
        send.close()
