#!/usr/bin/env python3
"""Run a SurveyHub project from a script, without the browser: the JSON API step by step.

Standard library only (urllib, json). The two calls that make something (a project, residents) carry
an ``Idempotency-Key`` and are tried again when the network fails, so a retry never makes them twice.
 Set two environment variables first:

    export SURVEYHUB_URL=https://surveyhub.example.org
    export SURVEYHUB_TOKEN=shk_...      # an organisation API token with the scopes
                                        # projects:manage and outcomes:read

Then, one step at a time (residents answer through their personal links in between):

    python api_walkthrough.py setup "Speeltuin De Vlinder" --instrument organising --residents 12
    python api_walkthrough.py status speeltuin-de-vlinder
    python api_walkthrough.py next-wave speeltuin-de-vlinder pre post    # close pre, open post
    python api_walkthrough.py close speeltuin-de-vlinder post
    python api_walkthrough.py report speeltuin-de-vlinder

Personal links are secrets: whoever has one answers as that resident. This script prints them
so you can hand them out; do not keep its output in a shared place.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

#: Rows per page when reading the list of residents (the most the API gives at once).
PAGE = 500


class ApiError(Exception):
    """The API answered with a problem (RFC 9457): its status, title and detail."""

    def __init__(self, status: int, problem: dict):
        self.status, self.problem = status, problem
        errors = "; ".join(f"{e['location']}: {e['message']}" for e in problem.get("errors") or [])
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail') or ''} {errors}".strip())


class Client:
    """Calls the API of one installation with one token."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    def call(self, method: str, path: str, body: dict | None = None, *, once: bool = False, **query) -> dict:
        """One call; the answer's JSON, or ApiError.

        ``once``: a POST that makes something is sent with an ``Idempotency-Key`` and tried again (up to
        three times) when the connection fails or times out: the server does the work once, whatever
        the network did with the first try.
        """
        key = str(uuid.uuid4()) if once else None
        for attempt in range(3 if once else 1):
            try:
                return self._send(method, path, body, key, query)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if isinstance(exc, urllib.error.HTTPError) or attempt == 2 or not once:
                    raise
                say(f"  (no answer: {exc}; trying again with the same Idempotency-Key)")
                time.sleep(2 ** attempt)
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, body: dict | None, key: str | None, query: dict) -> dict:
        url = f"{self.base_url}/api/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {}),
            **({"Idempotency-Key": key} if key else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                problem = json.loads(raw)
            except ValueError:
                problem = {"detail": raw.decode("utf-8", "replace")[:200]}
            raise ApiError(error.code, problem) from None


def say(text: str) -> None:
    print(text, flush=True)


# --- the steps ---------------------------------------------------------------------------------------

def create_project(client: Client, name: str, instruments: list[str], **options) -> dict:
    """A new project; its pre wave opens right away."""
    project = client.call("POST", "/projects", {"name": name, "instruments": instruments, **options}, once=True)
    say(f"Created project {project['slug']} with {', '.join(project['instruments'])}; the pre wave is open.")
    return project


def add_residents(client: Client, slug: str, residents: list[dict]) -> list[dict]:
    """Add residents ({} for an anonymous one, or display_name and email); each gets a code and a link."""
    added = client.call("POST", f"/projects/{slug}/participants", {"participants": residents},
                        once=True)["participants"]
    say(f"Added {len(added)} residents to {slug}:")
    for one in added:
        say(f"  {one['code']}  {one['display_name'] or '(no name)'}  {one['link']}")
    return added


def link_of(client: Client, slug: str, code: str) -> str | None:
    """A resident's current personal link (each look is recorded in the audit trail)."""
    return client.call("GET", f"/projects/{slug}/participants/{code}/link")["link"]


def set_wave(client: Client, slug: str, kind: str, action: str) -> dict:
    """``action`` "open" or "close"; doing it twice changes nothing."""
    wave = client.call("POST", f"/projects/{slug}/waves/{kind}/{action}")
    say(f"{slug}: the {kind} wave is {wave['status']} ({wave['completed']} of {wave['started']} who began "
        f"have completed it).")
    return wave


def residents(client: Client, slug: str) -> list[dict]:
    """Every resident with the state of each wave, page by page."""
    found, offset = [], 0
    while offset is not None:
        page = client.call("GET", f"/projects/{slug}/participants", limit=PAGE, offset=offset)
        found += page["participants"]
        offset = page["next_offset"]
    return found


def show_status(client: Client, slug: str) -> dict:
    """How far each wave is, and per wave how many residents have not started, are busy or are done."""
    project = client.call("GET", f"/projects/{slug}")
    everyone = residents(client, slug)
    say(f"{project['name']} ({slug}): {project['participants']} residents")
    counts: dict = {}
    for wave in project["waves"]:
        states = [r["status"][wave["kind"]] for r in everyone if r["status"].get(wave["kind"])]
        counts[wave["kind"]] = {state: states.count(state) for state in ("not_started", "busy", "done")}
        say(f"  {wave['kind']:9} {wave['status']:7} done {counts[wave['kind']]['done']}, "
            f"busy {counts[wave['kind']]['busy']}, not started {counts[wave['kind']]['not_started']}")
    return counts


def show_report(client: Client, slug: str) -> dict:
    """The report JSON (suppressed below the organisation's thresholds), with one line per scale."""
    report = client.call("GET", f"/projects/{slug}/report")
    taking_part = report["participation"]
    say(f"{slug}: {taking_part['paired']} residents answered before and after "
        f"(match rate {taking_part['match_rate']}).")
    for scale in report["scales"]:
        change = (scale.get("change") or {}).get("mean")
        shown = "hidden: too few pairs" if change is None else f"{change:+.2f}"
        say(f"  {scale['instrument']}/{scale['scale']}: {scale['n_pairs']} pairs, mean change {shown}")
    return report


# --- the command line --------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    setup = steps.add_parser("setup", help="create a project and add residents; prints their links")
    setup.add_argument("name")
    setup.add_argument("--instrument", action="append", required=True, help="instrument id[@version]; repeat")
    setup.add_argument("--residents", type=int, default=0, help="anonymous residents to add")
    setup.add_argument("--names", type=argparse.FileType(encoding="utf-8"),
                       help="a file with one resident per line: name, optionally a comma and an e-mail address")
    status = steps.add_parser("status", help="each wave's state and the residents' progress")
    status.add_argument("slug")
    following = steps.add_parser("next-wave", help="close one wave and open the next")
    following.add_argument("slug")
    following.add_argument("close", choices=("pre", "post", "followup"))
    following.add_argument("open", choices=("pre", "post", "followup"))
    close = steps.add_parser("close", help="close a wave")
    close.add_argument("slug")
    close.add_argument("kind", choices=("pre", "post", "followup"))
    report = steps.add_parser("report", help="the project's outcomes")
    report.add_argument("slug")
    args = parser.parse_args(argv)

    try:
        client = Client(os.environ["SURVEYHUB_URL"], os.environ["SURVEYHUB_TOKEN"])
    except KeyError as missing:
        print(f"Set {missing.args[0]} first (see the top of this script).", file=sys.stderr)
        return 2
    try:
        if args.step == "setup":
            project = create_project(client, args.name, args.instrument)
            wanted = [{} for _ in range(args.residents)]
            for line in args.names or []:
                name, _sep, email = line.strip().partition(",")
                if name.strip() or email.strip():
                    wanted.append({"display_name": name.strip() or None, "email": email.strip() or None})
            if wanted:
                add_residents(client, project["slug"], wanted)
        elif args.step == "status":
            show_status(client, args.slug)
        elif args.step == "next-wave":
            set_wave(client, args.slug, args.close, "close")
            set_wave(client, args.slug, args.open, "open")
        elif args.step == "close":
            set_wave(client, args.slug, args.kind, "close")
        elif args.step == "report":
            show_report(client, args.slug)
    except ApiError as error:
        print(f"The API said: {error}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"Cannot reach {client.base_url}: {error.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
