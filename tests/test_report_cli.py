"""``surveyhub report PROJECT --format json|pdf [-o FILE] [--min-n N] [--min-tests N] [--min-cell N]``.

Threshold options: ``--min-n N`` is the minimum number of pairs for means; tests and
effect sizes keep their own minimum (``--min-tests``, else the organisation's, else
the installation's) unless N is larger, in which case they need N too.
"""

from __future__ import annotations

import json
import types

import pytest

from surveyhub.models import Organisation
from tests.fixtures.outcomes import LAKENS_POST, LAKENS_PRE, cli_report, import_values, new_project, \
    with_outcome_instruments


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments({**app_config, "MIN_PAIRS_MEANS": 6, "MIN_PAIRS_TESTS": 9, "MIN_CELL": 4})


@pytest.fixture
def lakens(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Noord")
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", LAKENS_PRE)
    import_values(runner, tmp_path, slug, "post", "rating", LAKENS_POST)
    return org, slug


def thresholds(report: dict) -> tuple:
    t = report["thresholds"]
    return t["min_means"], t["min_tests"], t["min_cell"]


def test_json_on_stdout_or_in_a_file(runner, lakens, tmp_path):
    _org, slug = lakens
    on_stdout = cli_report(runner, slug)
    target = tmp_path / "report.json"
    result = runner.invoke(args=["report", slug, "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    assert f"Wrote {target}" in result.stderr
    in_file = json.loads(target.read_text(encoding="utf-8"))
    assert {k: v for k, v in in_file.items() if k != "generated_at"} == \
        {k: v for k, v in on_stdout.items() if k != "generated_at"}
    assert in_file["scales"][0]["n_pairs"] == 10


def test_installation_defaults_apply_without_options(runner, lakens):
    report = cli_report(runner, lakens[1])
    assert thresholds(report) == (6, 9, 4)
    assert set(report["thresholds"]["sources"].values()) == {"default"}
    rating = report["scales"][0]
    assert rating["pre"]["mean"] is not None and rating["test"]["t"] is not None  # 10 pairs ≥ 9


@pytest.mark.parametrize("options, expected", [
    (["--min-n", "3"], (3, 9, 4)),            # tests keep their own minimum
    (["--min-n", "12"], (12, 12, 4)),         # ... unless --min-n is larger
    (["--min-n", "2", "--min-tests", "5"], (2, 5, 4)),
    (["--min-n", "7", "--min-tests", "5"], (7, 7, 4)),
    (["--min-cell", "11"], (6, 9, 11)),
])
def test_min_n_sets_the_means_threshold_and_lifts_the_tests_threshold(runner, lakens, options, expected):
    report = cli_report(runner, lakens[1], *options)
    assert thresholds(report) == expected
    rating = report["scales"][0]
    assert (rating["pre"]["mean"] is None) == (expected[0] > 10)
    assert (rating["test"]["t"] is None) == (expected[1] > 10)


def test_the_organisations_thresholds_win_over_the_installations(runner, session, lakens):
    org, slug = lakens
    own = session.get(Organisation, org.id)
    own.min_pairs_tests = 11
    session.commit()
    report = cli_report(runner, slug, "--min-n", "2")
    assert thresholds(report) == (2, 11, 4)
    assert report["thresholds"]["sources"] == {"min_means": "call", "min_tests": "organisation",
                                               "min_cell": "default"}
    assert report["scales"][0]["test"]["t"] is None


def test_user_errors_are_one_line(runner, lakens):
    result = runner.invoke(args=["report", "no-such-project"])
    assert result.exit_code == 1 and result.stderr == "Error: no project 'no-such-project'\n"
    result = runner.invoke(args=["report", lakens[1], "--min-n", "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_pdf_the_document_service_refuses_says_so_in_one_line(runner, lakens, monkeypatch):
    import surveyhub.services.documents as documents
    from surveyhub.services.errors import UserError

    def refuse(*_args, **_kwargs):
        raise UserError("PDF reports are not available in this installation yet; use --format json")

    # The document service always exists now; what the user sees when it refuses is what matters.
    monkeypatch.setattr(documents, "issue_report", refuse)
    result = runner.invoke(args=["report", lakens[1], "--format", "pdf"])
    assert result.exit_code == 1
    assert result.stderr == "Error: PDF reports are not available in this installation yet; use --format json\n"


def test_pdf_gets_the_resolved_thresholds_and_is_written(runner, lakens, monkeypatch, tmp_path):
    import surveyhub.services.documents as documents
    from surveyhub.services import outcomes

    calls = []

    def fake_issue_report(session, registry, actor, slug, host, lang, base_url, **given):
        assert host is not None  # the app's plugins add their report sections
        # As the real service: the report it renders resolves the thresholds (options, organisation, defaults).
        used = outcomes.project_report(session, registry, actor, slug, **given)["thresholds"]
        calls.append((slug, {"lang": lang, "base_url": base_url,
                             **{name: used[name] for name in ("min_means", "min_tests", "min_cell")}}))
        return types.SimpleNamespace(pdf=b"%PDF-1.7 fake", code="ABCD-EFGH-JKLM", filename="rapport.pdf")

    monkeypatch.setattr(documents, "issue_report", fake_issue_report)
    target = tmp_path / "out.pdf"
    result = runner.invoke(args=["report", lakens[1], "--format", "pdf", "-o", str(target), "--min-n", "3",
                                 "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"%PDF-1.7 fake" and "ABCD-EFGH-JKLM" in result.stderr
    assert calls == [(lakens[1], {"lang": "en", "base_url": "http://surveyhub.test", "min_means": 3,
                                  "min_tests": 9, "min_cell": 4})]
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=["report", lakens[1], "--format", "pdf"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rapport.pdf").read_bytes() == b"%PDF-1.7 fake"


def test_a_real_pdf_report(runner, lakens, tmp_path):
    target = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", lakens[1], "--format", "pdf", "-o", str(target)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert target.read_bytes().startswith(b"%PDF") and "verification code" in result.stderr


def test_the_pdf_report_command_exits_cleanly_in_its_own_process(tmp_path):
    """As a user runs it: init, demo, report PDF — exit code 0, not a crash while the process ends."""
    from tests.test_config import run_cli

    instance = tmp_path / "instance"
    for args in (("init",), ("demo",)):
        assert run_cli(*args, instance=instance).returncode == 0
    out = tmp_path / "report.pdf"
    done = run_cli("report", "speeltuin-de-vlinder", "--format", "pdf", "-o", str(out), instance=instance)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")
