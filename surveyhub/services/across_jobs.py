"""The organisation's and the network's report PDF, made in the background (job kinds ``org_report.pdf`` and
``network_report.pdf``).

Like the project's report (``services.document_jobs``): one item prepares the report
for the period in the job's parameters (``start``, ``end`` as ISO dates, ``lang``; a
network report also ``network``, its slug), renders it within the render budget and
registers it. Registering is idempotent (an unchanged report is handed out again with
its own code), so an item that runs twice issues nothing new. The job acts as the user
who started it (a funder's report holds only the projects shared with them), and the
kind's capability is checked again when it runs.
"""

from __future__ import annotations

from datetime import date

from surveyhub.services import audit, jobs
from surveyhub.services import across_documents as across
from surveyhub.services import document_batches as batches
from surveyhub.services.job_kinds import ItemDone, JobRun, Kind, ResultFile


def _period(run: JobRun) -> dict:
    return {"start": date.fromisoformat(str(run.params["start"])), "end": date.fromisoformat(str(run.params["end"]))}


def _issue(run: JobRun, prepared: across.Prepared) -> ItemDone:
    """Render within the budget (no transaction open meanwhile) and register; the PDF is the item's output."""
    session = run.ctx.session
    session.commit()
    issued = across.register(session, prepared, batches.render(prepared, batches.budget_from(run.settings)))
    session.commit()
    return ItemDone(result={"code": issued.code, "filename": issued.filename,
                            "issued_at": issued.issued_at.isoformat()}, output=issued.pdf)


def org_report_item(run: JobRun, _key: str) -> ItemDone:
    return _issue(run, across.prepare_org_report(run.ctx, **_period(run), lang=run.params.get("lang")))


def network_report_item(run: JobRun, _key: str) -> ItemDone:
    return _issue(run, across.prepare_network_report(run.ctx, str(run.params["network"]), **_period(run),
                                                     lang=run.params.get("lang")))


def _finish(run: JobRun, target: str) -> ResultFile:
    """The job's one PDF; the download is recorded once, against the organisation (or network)."""
    (_key, result, output), = list(jobs.outputs(run.ctx.session, run.job_id))
    result = result or {}
    audit.record(run.ctx.session, "download.report", actor=run.ctx.actor, target=target,
                 details={"kind": target.split(":")[0] + "_report", "document": result.get("code"),
                          "start": run.params.get("start"), "end": run.params.get("end"),
                          "language": run.params.get("lang")})
    return ResultFile(str(result["filename"]), "application/pdf", iter([output or b""]))


def org_report_finish(run: JobRun) -> ResultFile:
    return _finish(run, f"organisation:{run.ctx.actor.organisation_id}")


def network_report_finish(run: JobRun) -> ResultFile:
    return _finish(run, f"network:{run.params['network']}")


KINDS: list[Kind] = [
    Kind("org_report.pdf", "org.outcomes", org_report_item, org_report_finish),
    Kind("network_report.pdf", "network.outcomes", network_report_item, network_report_finish),
]
