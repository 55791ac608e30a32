"""THREATS.md 14: a process killed with SIGKILL in the middle of work leaves whole results or none.

``surveyhub certificates`` is killed while it renders: every PDF in the folder is whole and verifies
as genuine (files are written under a temporary name and renamed), and running the command again
delivers a file for every certificate the register holds — none is registered without reaching anyone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.test_config import run_cli

SLUG = "speeltuin-de-vlinder"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from surveyhub.cli import main; main()", *args]


def test_certificates_killed_midway_leave_whole_files_and_a_rerun_delivers_every_registered_one(tmp_path):
    instance, out = tmp_path / "instance", tmp_path / "certificates"
    for args in (("init",), ("demo",)):
        assert run_cli(*args, instance=instance).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYHUB_")}
    env.update(SURVEYHUB_INSTANCE_PATH=str(instance), SURVEYHUB_PLUGINS_DIR="")
    process = subprocess.Popen(_cli("certificates", SLUG, "-o", str(out), "--jobs", "1"), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.is_dir() and any(out.glob("*.pdf"))):
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the command finished before it could be killed"

    written = sorted(out.glob("*.pdf"))
    assert written, "no certificate was written before the kill"
    for pdf in written:
        checked = run_cli("verify", str(pdf), instance=instance)
        assert checked.returncode == 0 and checked.stdout.startswith("genuine"), (pdf.name, checked.stdout)

    again = run_cli("certificates", SLUG, "-o", str(out), instance=instance)
    assert again.returncode == 0, again.stderr
    from sqlalchemy import create_engine, text
    engine = create_engine(f"sqlite:///{instance / 'surveyhub.sqlite3'}")
    with engine.connect() as connection:
        registered = connection.execute(text("SELECT count(*) FROM documents WHERE kind IN "
                                             "('certificate', 'participation') AND revoked_at IS NULL")).scalar()
    engine.dispose()
    files = sorted(out.glob("*.pdf"))
    assert not list(out.glob("*.part")), "a half-written file was left behind"
    assert len(files) == registered
