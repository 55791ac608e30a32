"""Open Badges 3.0 (issue 15): who earns a badge, and that each credential is valid, signed and revocable.

A test-only instrument makes the rule exact: one 0–40 item with norms (SD 5, reliability .80), so
S_diff = 3.16228 and a change of 8 is reliable improvement (RC 2.53) while 4 is not (RC 1.26), the
same reference the report and the worker's growth page use; levels at 0, 20 and 30.
Every credential is validated against the 1EdTech OB 3.0 JSON Schema (tests/reference/ob3/) and
its signature checked with PyJWT (a second JOSE library) using the key from the JWKS URL.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import jwt as pyjwt
import pytest
from sqlalchemy import select

from surveyhub import hookimpl
from surveyhub.models import AuditEvent, BadgeCredential, Participant, Project
from surveyhub.plugins import get_registry
from surveyhub.services import access, badge_credentials, badges
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import Invalid
from surveyhub.services.outcomes import Thresholds
from tests.fixtures.outcomes import answer, new_project

BASE_URL = "http://surveyhub.test"
SCHEMA = json.loads((Path(__file__).parent / "reference" / "ob3" /
                     "ob_v3p0_achievementcredential_schema.json").read_text(encoding="utf-8"))


def _text(nl: str, en: str) -> dict:
    return {"nl": nl, "en": en}


GROWTH = {
    "id": "growth", "version": 1, "title": _text("Samen aan de slag", "Working together"),
    "scales": [{
        "id": "together", "title": _text("Samenwerken", "Working together"),
        "items": [{"id": "points", "type": "number", "min": 0, "max": 40, "step": 1, "text": _text("Punten", "Points"),
                   "retrospective_text": _text("Punten toen", "Points then")}],
        "retrospective": _text("Hoe was het vóór het project?", "How was it before the project?"),
        "scoring": {"method": "mean", "min_answered": 1},
        "norms": {"sd": 5, "reliability": 0.80},
        "levels": [{"min": 0, "label": _text("Op weg", "Getting started")},
                   {"min": 20, "label": _text("Goed bezig", "Doing well")},
                   {"min": 30, "label": _text("Sterk", "Strong")}],
    }],
}


#: The same without norms: one item gives no Cronbach's alpha, so reliable change cannot be judged.
UNNORMED = {**GROWTH, "id": "unnormed", "scales": [{k: v for k, v in GROWTH["scales"][0].items() if k != "norms"}]}


#: A scale where lower is better (worry): its best level is its lowest.
WORRY = {**GROWTH, "id": "worry", "scales": [{
    **GROWTH["scales"][0], "id": "worry", "title": _text("Zorgen", "Worry"), "higher_is_better": False,
    "levels": [{"min": 0, "label": _text("Weinig zorgen", "Few worries")},
               {"min": 20, "label": _text("Wat zorgen", "Some worries")},
               {"min": 30, "label": _text("Veel zorgen", "Many worries")}]}]}


class GrowthInstrument:
    @hookimpl
    def surveyhub_register_instruments(self):
        return [GROWTH, UNNORMED, WORRY]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EXTRA_PLUGINS": {"badge_growth": GrowthInstrument()}}


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


def context(app, session, org) -> ServiceContext:
    return ServiceContext(session=session, actor=access.Actor(organisation_id=org.id, role="worker"),
                          registry=get_registry(app), host=None, thresholds=Thresholds(), base_url=BASE_URL)


def project_with(app, session, org, rule: str, residents: dict, *, level: str | None = None,
                 retrospective: bool = False) -> str:
    """A project on the growth instrument; ``residents``: code -> (pre or None, post[, then])."""
    slug = new_project(app, session, org, ["growth"], retrospective=retrospective)
    badges.set_rule(context(app, session, org), slug, rule, level)
    session.commit()
    for code, scores in residents.items():
        pre, post, *then = scores
        if pre is not None:
            answer(app, session, slug, "pre", code, {("growth", "points"): pre})
        answer(app, session, slug, "post", code, {("growth", "points"): post},
               then={("growth", "points"): then[0]} if then else None)
    return slug


def issued(app, session, org, slug) -> dict[tuple[str, str], badges.BadgeInfo]:
    found = badges.issue_for_project(context(app, session, org), slug)
    session.commit()
    return {(info.participant_code, info.kind): info for info in found}


def payload(info: badges.BadgeInfo) -> dict:
    return pyjwt.decode(info.jwt, options={"verify_signature": False})


# --- the rule ------------------------------------------------------------------------------------

def test_improvement_goes_to_reliable_improvers_only(app, session, org):
    slug = project_with(app, session, org, "improvement",
                        {"R-GROEI": (20, 28), "R-GELYK": (20, 24), "R-MINDR": (30, 20)})
    found = issued(app, session, org, slug)
    assert set(found) == {("R-GROEI", "improvement")}
    info = found[("R-GROEI", "improvement")]
    assert info.skill == "growth@1:together" and info.skill_in("en") == "Working together"
    assert info.file_name == "R-GROEI-growth-together.jwt"
    assert info.narrative == ("De score op Samenwerken ging van 20,0 naar 28,0 (op een schaal van 0 tot 40). "
                              "Gemeten met een vragenlijst van 1 vraag. Dat verschil is meer dan toeval.")


def test_issuing_again_keeps_what_was_issued(app, session, org):
    slug = project_with(app, session, org, "improvement", {"R-GROEI": (20, 28)})
    first = issued(app, session, org, slug)
    again = issued(app, session, org, slug)
    assert {k: v.public_id for k, v in first.items()} == {k: v.public_id for k, v in again.items()}
    assert first[("R-GROEI", "improvement")].jwt == again[("R-GROEI", "improvement")].jwt
    assert session.scalar(select(BadgeCredential.id).where(BadgeCredential.participant_code == "R-GROEI")
                          .offset(1)) is None


def test_level_badges_at_the_highest_level_or_the_chosen_one(app, session, org):
    slug = project_with(app, session, org, "level", {"R-STERK": (31, 32), "R-GOED": (10, 25), "R-WEG": (5, 9)})
    found = issued(app, session, org, slug)
    assert set(found) == {("R-STERK", "level")}  # no level chosen: the highest, "Sterk"
    assert found[("R-STERK", "level")].level == "strong"
    assert found[("R-STERK", "level")].level_in("nl") == "Sterk"
    assert "Dat is het niveau 'Sterk' (vanaf 30,00)." in found[("R-STERK", "level")].narrative

    badges.set_rule(context(app, session, org), slug, "level", "doing-well")
    session.commit()
    found = issued(app, session, org, slug)
    assert set(found) == {("R-STERK", "level"), ("R-GOED", "level")}
    assert found[("R-GOED", "level")].level == "doing-well"
    assert found[("R-GOED", "level")].file_name == "R-GOED-growth-together-level.jwt"


def test_either_gives_both_kinds_and_off_gives_none(app, session, org):
    slug = project_with(app, session, org, "either", {"R-BEIDE": (20, 31), "R-NIVO": (29, 31), "R-GELYK": (10, 12)})
    assert set(issued(app, session, org, slug)) == {("R-BEIDE", "improvement"), ("R-BEIDE", "level"),
                                                   ("R-NIVO", "level")}
    other = project_with(app, session, org, "off", {"R-BEIDE": (20, 31)})
    assert issued(app, session, org, other) == {}


def test_without_a_pre_score_the_look_back_decides(app, session, org):
    slug = project_with(app, session, org, "improvement",
                        {"R-TERUG": (None, 30, 20), "R-KLEIN": (None, 30, 27)}, retrospective=True)
    found = issued(app, session, org, slug)
    assert set(found) == {("R-TERUG", "improvement")}
    info = found[("R-TERUG", "improvement")]
    assert info.name == "Zelf ervaren groei in samenwerken"
    assert "zelf ervaren groei" in payload(info)["credentialSubject"]["achievement"]["criteria"]["narrative"]


def test_an_unfinished_post_wave_earns_nothing(app, session, org):
    slug = project_with(app, session, org, "either", {})
    answer(app, session, slug, "pre", "R-HALF", {("growth", "points"): 10})
    answer(app, session, slug, "post", "R-HALF", {("growth", "points"): 35}, complete=False)
    assert issued(app, session, org, slug) == {}


def test_completing_the_post_wave_issues_the_badge(app, session, org):
    from surveyhub.services import responses

    slug = project_with(app, session, org, "improvement", {})
    answer(app, session, slug, "pre", "R-NU", {("growth", "points"): 12})
    answer(app, session, slug, "post", "R-NU", {("growth", "points"): 30}, complete=False)
    project = session.scalar(select(Project).where(Project.slug == slug))
    participant = session.scalar(select(Participant).where(Participant.code == "R-NU"))
    post = next(r for r in participant.responses if r.status != "completed")
    responses.complete(session, project, post, get_registry(app).scoring_methods,
                       on_post_completed=badges.on_completion(BASE_URL))
    session.commit()
    [info] = badges.for_participant(session, participant.id)
    assert (info.kind, info.participant_code) == ("improvement", "R-NU")


def test_the_rule_is_checked(app, session, org):
    slug = project_with(app, session, org, "off", {})
    ctx = context(app, session, org)
    with pytest.raises(Invalid):
        badges.set_rule(ctx, slug, "sometimes")
    with pytest.raises(Invalid):
        badges.set_rule(ctx, slug, "level", "heroic")
    assert [key for key, _label in badges.level_choices(ctx, slug)] == ["getting-started", "doing-well", "strong"]
    funder = ServiceContext(session=session, actor=access.Actor(organisation_id=org.id, role="funder"),
                            registry=get_registry(app), host=None, thresholds=Thresholds(), base_url=BASE_URL)
    with pytest.raises(Exception) as refused:
        badges.issue_for_project(funder, slug)
    assert type(refused.value).__name__ in ("Forbidden", "NotFound")


# --- the credential ------------------------------------------------------------------------------

@pytest.fixture
def earned(app, session, org):
    slug = project_with(app, session, org, "either", {"R-GROEI": (20, 31)})
    participant = session.scalar(select(Participant).where(Participant.code == "R-GROEI"))
    participant.display_name, participant.email = "Fatima de Vries", "fatima@example.org"
    session.commit()
    return slug, issued(app, session, org, slug)


def test_every_credential_follows_the_ob3_schema(earned):
    _slug, found = earned
    assert len(found) == 2
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for info in found.values():
        credential = payload(info)
        errors = sorted(validator.iter_errors(credential), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
        assert credential["@context"] == [badge_credentials.VC_CONTEXT, badge_credentials.OB_CONTEXT]
        assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert credential["id"] == f"urn:uuid:{info.public_id}"
        assert credential["issuer"]["id"] == f"{BASE_URL}/ob/issuers/buurtwerk-noord"
        assert credential["jti"] == credential["id"] and credential["iss"] == credential["issuer"]["id"]
        assert credential["credentialSchema"][0]["id"] == badge_credentials.OB_SCHEMA
        achievement = credential["credentialSubject"]["achievement"]
        assert achievement["id"].startswith(f"{BASE_URL}/ob/achievements/growth/1/together")
        assert achievement["achievementType"] == "Competency"
    # The schema does refuse what OB 3.0 forbids (so the check above can fail).
    broken = {k: v for k, v in payload(found[("R-GROEI", "level")]).items() if k != "validFrom"}
    broken["credentialSubject"]["identifier"] = [{"type": "IdentityObject", "identityType": "nickname",
                                                  "hashed": False, "identityHash": "x"}]
    errors = list(validator.iter_errors(broken))
    assert any("'validFrom' is a required property" in e.message for e in errors)
    assert any(list(e.path)[:1] == ["credentialSubject"] for e in errors)


def test_the_signature_verifies_with_pyjwt_and_the_published_key(app, client, earned):
    _slug, found = earned
    info = found[("R-GROEI", "improvement")]
    header = pyjwt.get_unverified_header(info.jwt)
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    assert header["kid"].startswith(f"{BASE_URL}/ob/issuers/buurtwerk-noord/keys/")
    assert "d" not in header["jwk"]
    keys = client.get("/ob/issuers/buurtwerk-noord/jwks.json").get_json()["keys"]
    [jwk] = [k for k in keys if k["kid"] == header["kid"].rsplit("/", 1)[1]]
    assert "d" not in jwk
    assert client.get(header["kid"].removeprefix(BASE_URL)).get_json() == jwk
    key = pyjwt.PyJWK(jwk).key
    claims = pyjwt.decode(info.jwt, key, algorithms=["EdDSA"])
    assert claims["credentialSubject"]["narrative"] == info.narrative

    head, body, signature = info.jwt.split(".")
    tampered = json.loads(pyjwt.utils.base64url_decode(body))
    tampered["credentialSubject"]["achievement"]["name"] = "Gegroeid in alles"
    forged = ".".join([head, pyjwt.utils.base64url_encode(json.dumps(tampered).encode()).decode(), signature])
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(forged, key, algorithms=["EdDSA"])
    with app.app_context():
        from surveyhub.db import get_session
        assert badge_credentials.verify(get_session(), info.jwt, BASE_URL).status == "valid"
        assert badge_credentials.verify(get_session(), forged, BASE_URL).status == "bad_signature"
        assert badge_credentials.verify(get_session(), info.jwt, "https://elsewhere.example").status == \
            "unknown_issuer"
        assert badge_credentials.verify(get_session(), "not a badge", BASE_URL).status == "malformed"


def test_no_personal_data_in_the_credential(earned):
    _slug, found = earned
    for info in found.values():
        text = json.dumps(payload(info), ensure_ascii=False) + json.dumps(pyjwt.get_unverified_header(info.jwt))
        for secret in ("Fatima", "Vries", "fatima@example.org", "R-GROEI", "points", "Punten"):
            assert secret not in text



def _strings_in(value) -> list[str]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings_in(item)]
    return [value] if isinstance(value, str) else []


def test_the_credential_does_not_let_its_holder_find_the_residents_code(earned):
    """A code has only 2^25 values: a hash of it (salted with a value in the credential) is found by trying
    them all. So no string in the credential may be a hash of the code, alone or with another of its strings;
    the subject is a random id of its own per badge, which the JWT's ``sub`` repeats (OB 3.0 section 8.2)."""
    import hashlib
    _slug, found = earned
    subjects = set()
    for info in found.values():
        credential = payload(info)
        strings = {"", *_strings_in(credential)}
        hashes = {hashlib.new(name, ("R-GROEI" + extra).encode()).hexdigest()
                  for name in ("sha256", "md5") for extra in strings}
        assert not any(digest in text.lower() for text in strings for digest in hashes)
        subject = credential["credentialSubject"]["id"]
        assert subject.startswith("urn:uuid:") and subject != credential["id"]
        assert credential["sub"] == subject
        subjects.add(subject)
    assert len(subjects) == len(found)  # two badges of one resident are not linked by their subject


def test_revoking_sets_the_status_bit_and_verify_says_revoked(app, session, client, org, earned):
    _slug, found = earned
    info = found[("R-GROEI", "level")]
    index = int(payload(info)["credentialStatus"]["statusListIndex"])

    def bit() -> bool:
        signed = client.get("/ob/issuers/buurtwerk-noord/status/1")
        assert signed.status_code == 200
        keys = client.get("/ob/issuers/buurtwerk-noord/jwks.json").get_json()["keys"]
        status = pyjwt.decode(signed.get_data(as_text=True), pyjwt.PyJWK(keys[0]).key, algorithms=["EdDSA"])
        assert status["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert status["sub"] == status["credentialSubject"]["id"] and status["iss"] == status["issuer"]
        encoded = status["credentialSubject"]["encodedList"]
        import base64
        import gzip
        raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
        assert len(raw) >= 16 * 1024
        return bool(raw[index // 8] & (0x80 >> (index % 8)))

    assert not bit()
    badges.revoke(context(app, session, org), info.public_id, "Verkeerd ingevoerd")
    session.commit()
    assert bit()
    check = badge_credentials.verify(session, info.jwt, BASE_URL)
    assert (check.status, check.revoked_reason) == ("revoked", "Verkeerd ingevoerd")
    assert badge_credentials.verify(session, found[("R-GROEI", "improvement")].jwt, BASE_URL).status == "valid"
    resident_id = session.scalar(select(Participant.id).where(Participant.code == "R-GROEI"))
    assert [b.kind for b in badges.for_participant(session, resident_id)] == ["improvement"]
    mine = badges.for_participant(session, resident_id, revoked=True)
    assert sorted((b.kind, b.revoked_reason) for b in mine) == [("improvement", None),
                                                                ("level", "Verkeerd ingevoerd")]


def test_erasure_revokes_and_forgets(app, session, org, earned):
    from surveyhub.services import erasure

    _slug, found = earned
    participant_id = session.scalar(select(Participant.id).where(Participant.code == "R-GROEI"))
    erasure.erase(session, participant_id, erasure.REASONS[0], "resident")
    session.commit()
    rows = list(session.scalars(select(BadgeCredential)))
    assert len(rows) == 2
    assert all(r.participant_id is None and r.revoked_at is not None and r.participant_code != "R-GROEI"
               and r.jwt == "" and "now" not in r.facts for r in rows)
    check = badge_credentials.verify(session, found[("R-GROEI", "improvement")].jwt, BASE_URL)
    assert (check.status, check.revoked_reason) == ("revoked", "withdrawn")


def test_public_urls(client, earned):
    profile = client.get("/ob/issuers/buurtwerk-noord")
    assert profile.status_code == 200 and profile.get_json()["type"] == ["Profile"]
    assert profile.get_json()["name"] == "Buurtwerk Noord"
    assert profile.get_json()["publicKeys"]["keys"]
    achievement = client.get("/ob/achievements/growth/1/together").get_json()
    assert achievement["name"] == "Gegroeid in samenwerken" and achievement["criteria"]["narrative"]
    assert client.get("/ob/achievements/growth/1/together/strong").get_json()["name"] == "Samenwerken: Sterk"
    for missing in ("/ob/issuers/nobody", "/ob/issuers/nobody/jwks.json", "/ob/issuers/nobody/status/1",
                    "/ob/issuers/buurtwerk-noord/keys/nokey", "/ob/achievements/growth/1/together/doing-well",
                    "/ob/achievements/organising/1/organising"):
        assert client.get(missing).status_code == 404, missing


def test_a_resident_who_finishes_the_post_wave_on_their_phone_gets_the_badge(app, session, client, org,
                                                                              make_participant):
    from tests.test_questionnaire import Resident, finish_wave, set_wave

    slug = project_with(app, session, org, "improvement", {})
    resident = Resident(client, make_participant(org, slug).token)
    resident.consent()
    finish_wave(resident, value="12")
    participant_id = session.scalar(select(Participant.id).where(Participant.project_id == select(Project.id).where(
        Project.slug == slug).scalar_subquery()))
    set_wave(session, org, slug, "post", "open")
    assert badges.for_participant(session, participant_id) == []  # the pre wave earns nothing
    finish_wave(resident, value="30")
    [info] = badges.for_participant(session, participant_id)
    assert info.kind == "improvement" and "van 12,0 naar 30,0" in info.narrative
    assert badge_credentials.verify(session, info.jwt, BASE_URL).status == "valid"


def test_issuing_revoking_and_the_rule_are_in_the_audit_trail(app, session, org):
    from flask_babel import force_locale

    from surveyhub.models import AuditEvent
    from surveyhub.web.audit_labels import label

    slug = project_with(app, session, org, "improvement", {"R-GROEI": (20, 28)})
    [info] = issued(app, session, org, slug).values()
    issued(app, session, org, slug)  # nothing new: no second event
    badges.revoke(context(app, session, org), info.public_id, "Dubbel")
    session.commit()
    events = [(e.action, e.details) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
              if e.action.startswith(("badge.", "project.badge"))]
    assert events == [("project.badge_rule", {"rule": "improvement", "level": None}),
                      ("badge.issue", {"count": 1}), ("badge.revoke", {"reason": "Dubbel"})]
    with app.test_request_context(), force_locale("nl"):
        assert [label(action) for action, _ in events] == ["Badges ingesteld", "Badges uitgereikt",
                                                            "Badge ingetrokken"]


def test_after_the_retention_period_the_badge_stays_valid_and_nothing_personal_is_kept(app, session, runner, org):
    from tests.test_retention import close_all, purge

    slug = project_with(app, session, org, "improvement", {"R-GROEI": (20, 28)})
    [info] = issued(app, session, org, slug).values()
    close_all(session, org, slug, months_ago=30)
    session.commit()
    assert f"{slug}: removed 1 residents" in purge(runner)
    [row] = session.scalars(select(BadgeCredential))
    assert (row.participant_id, row.jwt, row.revoked_at) == (None, "", None)
    assert row.participant_code != "R-GROEI" and "now" not in row.facts and "start" not in row.facts
    assert badge_credentials.verify(session, info.jwt, BASE_URL).status == "valid"  # still on their CV


def test_two_projects_issuing_at_the_same_moment_take_different_status_bits(app, session, org):
    """Two workers press 'issue' in two projects of one organisation at once: every badge gets its own bit."""
    import threading

    slugs = [project_with(app, session, org, "either", {f"R-{n}{i}": (20, 31) for i in range(3)}, )
             for n in ("A", "B")]
    database = app.extensions["surveyhub.db"]
    start, failures = threading.Barrier(2), []

    def issue(slug: str) -> None:
        try:
            with database.session() as own:
                ctx = context(app, own, org)
                start.wait(timeout=30)
                badges.issue_for_project(ctx, slug)
                own.commit()
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=issue, args=(slug,)) for slug in slugs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    indexes = list(session.scalars(select(BadgeCredential.status_index)))
    assert sorted(indexes) == list(range(12))  # 2 projects x 3 residents x 2 kinds, no bit twice, none skipped
    keys = {row.key_id for row in session.scalars(select(BadgeCredential))}
    assert len(keys) == 1  # one organisation, one signing key


def _b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return pyjwt.utils.base64url_encode(raw).decode()


@pytest.mark.parametrize("text", [
    "", "   ", "a.b.c", "eyJ.eyJ.x", "." * 3, "é.é.é", "x" * 70_000,
    f"{_b64([1])}.{_b64({})}.sig", f"{_b64({'alg': 'EdDSA'})}.{_b64([])}.sig",
    f"{_b64({'alg': 'EdDSA'})}.{_b64({'issuer': 'http://surveyhub.test/ob/issuers/x'})}.sig",
    f"{_b64({'alg': 'none'})}.{_b64({'issuer': {'id': 'http://surveyhub.test/ob/issuers/buurtwerk-noord'}})}.",
    f"{_b64({'alg': 'EdDSA', 'kid': 5})}.{_b64({'issuer': {'id': None}, 'validFrom': 7})}.sig",
    _b64(bytes([255, 254])) + "." + _b64(b"{") + ".sig",
    _b64(b"[" * 40_000) + "." + _b64({}) + ".sig",
    f"{_b64({'alg': 'EdDSA'})}." + _b64(b'{"issuer":' * 6_000) + ".sig",
    f"{_b64({'alg': 'EdDSA'})}." + _b64(b'{"issuer":{"id":"x"},"n":' + b"9" * 5_000 + b"}") + ".sig",
])
def test_verify_answers_anything_without_an_error(session, org, text):
    check = badge_credentials.verify(session, text, BASE_URL)
    assert check.status in ("malformed", "unknown_issuer", "bad_signature") and not check.valid


def test_a_signature_with_another_organisations_key_is_not_theirs(app, session, make_org, earned):
    """The header names a key of this installation, but not of the issuer the credential claims."""
    _slug, found = earned
    other = make_org("Welzijn Zuid")
    slug = project_with(app, session, other, "level", {"R-ZUID": (31, 35)})
    [theirs] = issued(app, session, other, slug).values()
    head, _body, signature = theirs.jwt.split(".")
    ours = found[("R-GROEI", "improvement")].jwt.split(".")[1]
    assert badge_credentials.verify(session, ".".join([head, ours, signature]), BASE_URL).status == \
        "unknown_issuer"


def test_a_resident_with_their_own_code_on_two_phones_gets_one_badge_on_the_later_self(app, session, org):
    """Paired by their own code (as the report pairs them): the start on one participant, the end on another."""
    slug = project_with(app, session, org, "improvement", {})
    answer(app, session, slug, "pre", "A-EERST", {("growth", "points"): 10}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "A-LATER", {("growth", "points"): 30}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "A-ALLEEN", {("growth", "points"): 30}, self_code="q|q|9|4|4|q")
    found = issued(app, session, org, slug)
    assert set(found) == {("A-LATER", "improvement")}  # A-ALLEEN has no start to grow from
    assert "van 10,0 naar 30,0" in found[("A-LATER", "improvement")].narrative


def test_without_a_way_to_judge_change_there_is_no_growth_badge_but_a_level_still_counts(app, session, org):
    slug = new_project(app, session, org, ["unnormed"])
    badges.set_rule(context(app, session, org), slug, "either")
    session.commit()
    for code, (pre, post) in {"R-VEEL": (5, 35), "R-WEINIG": (20, 22)}.items():
        answer(app, session, slug, "pre", code, {("unnormed", "points"): pre})
        answer(app, session, slug, "post", code, {("unnormed", "points"): post})
    assert set(issued(app, session, org, slug)) == {("R-VEEL", "level")}


def test_end_answers_imported_from_a_file_issue_the_badges_they_earned(app, session, org):
    """Answers collected with Kobo (or on paper, typed into a CSV) come in through the answer import: a resident
    whose imported end answers meet the rule gets the badge, as when finishing on a phone; a start wave gives none."""
    from surveyhub.services import imports

    slug = project_with(app, session, org, "either", {})
    actor = access.Actor(organisation_id=org.id, role="worker")
    registry = get_registry(app)
    imports.import_responses(session, registry, actor, slug, "pre", "participant;points\nK-IMP;20\n",
                             badges_base_url=BASE_URL)
    session.commit()
    assert badges.list_for_project(context(app, session, org), slug) == []
    imports.import_responses(session, registry, actor, slug, "post", "participant;points\nK-IMP;31\n",
                             commit=session.commit, badges_base_url=BASE_URL)
    found = {(info.participant_code, info.kind) for info in badges.list_for_project(context(app, session, org), slug)}
    assert found == {("K-IMP", "improvement"), ("K-IMP", "level")}


def _import_end(app, session, org, slug: str, points: int) -> None:
    from surveyhub.services import imports

    imports.import_responses(session, get_registry(app), access.Actor(organisation_id=org.id, role="worker"), slug,
                             "post", f"participant;points\nK-COR;{points}\n", commit=session.commit,
                             badges_base_url=BASE_URL)


def _all(app, session, org, slug) -> list[tuple[str, str | None]]:
    found = badges.list_for_project(context(app, session, org), slug, revoked=True)
    return sorted(((info.kind, info.revoked_reason) for info in found), key=lambda pair: (pair[0], pair[1] or ""))


def test_corrected_end_answers_withdraw_a_badge_they_no_longer_bear_out(app, session, org):
    """A badge states scores. When the end answers are brought in again with other values (a typing error
    fixed), a badge that no longer states what the answers show is revoked, so a checker sees it; what the
    corrected answers earn is issued anew, beside it."""
    slug = project_with(app, session, org, "either", {})
    answer(app, session, slug, "pre", "K-COR", {("growth", "points"): 20})
    _import_end(app, session, org, slug, 31)
    first = {info.kind: info for info in badges.list_for_project(context(app, session, org), slug)}
    assert set(first) == {"improvement", "level"}

    _import_end(app, session, org, slug, 31)  # the same answers again: nothing changes
    assert _all(app, session, org, slug) == [("improvement", None), ("level", None)]

    _import_end(app, session, org, slug, 24)  # 20 -> 24 is no reliable growth, and 24 is not "Sterk"
    assert _all(app, session, org, slug) == [("improvement", badges.CORRECTED), ("level", badges.CORRECTED)]
    for old in first.values():
        check = badge_credentials.verify(session, old.jwt, BASE_URL)
        assert (check.status, check.revoked_reason) == ("revoked", badges.CORRECTED)

    _import_end(app, session, org, slug, 35)  # corrected once more: earned again, as new badges
    valid = {info.kind: info for info in badges.list_for_project(context(app, session, org), slug)}
    assert set(valid) == {"improvement", "level"}
    assert {info.public_id for info in valid.values()}.isdisjoint(info.public_id for info in first.values())
    assert "naar 35,0" in valid["improvement"].narrative
    assert badge_credentials.verify(session, valid["improvement"].jwt, BASE_URL).status == "valid"
    assert len(_all(app, session, org, slug)) == 4
    reasons = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "badge.revoke"))
    assert [d["reason"] for d in reasons] == [badges.CORRECTED] * 2


def test_a_changed_rule_or_a_revoked_badge_is_not_undone_by_issuing_again(app, session, org):
    """Only changed answers withdraw a badge: one earned under the rule of its day stays valid when the rule
    changes, and a badge revoked by hand is not issued again."""
    slug = project_with(app, session, org, "either", {"R-GROEI": (20, 35)})
    found = issued(app, session, org, slug)
    badges.set_rule(context(app, session, org), slug, "level")
    session.commit()
    assert set(issued(app, session, org, slug)) == {("R-GROEI", "improvement"), ("R-GROEI", "level")}
    badges.revoke(context(app, session, org), found[("R-GROEI", "level")].public_id, "Verkeerd ingevoerd")
    session.commit()
    assert set(issued(app, session, org, slug)) == {("R-GROEI", "improvement")}
    badges.set_rule(context(app, session, org), slug, "off")
    session.commit()
    answer(app, session, slug, "post", "R-GROEI", {("growth", "points"): 22})  # typed again, rule off
    assert set(issued(app, session, org, slug)) == set()  # the improvement it stated is gone: withdrawn


def test_end_answers_being_typed_again_withdraw_nothing_until_they_are_complete(app, session, org):
    """A worker who starts typing a paper form again clears its answers; until the form is complete there is
    no score that contradicts the badge, so an issuing run in between (another resident's import) keeps it."""
    from surveyhub.models import Response, Wave

    slug = project_with(app, session, org, "level", {"R-GROEI": (20, 35)})
    [before] = issued(app, session, org, slug).values()
    post = session.scalar(select(Response).join(Wave).join(Participant).where(
        Participant.code == "R-GROEI", Wave.kind == "post"))
    post.scores.clear()
    post.status, post.completed_at = "started", None
    session.commit()
    assert [info.public_id for info in issued(app, session, org, slug).values()] == [before.public_id]


def test_an_organisations_own_instrument_has_achievements_of_its_own(app, session, client, make_org, org):
    """Two organisations may each upload an instrument with the same id and version: their achievements are
    different things, so their ids differ, and each id describes its own organisation's scale, never the other's."""
    from surveyhub.services import instruments

    other = make_org("Welzijn Zuid")
    registry = get_registry(app)

    def own(owner, title: str) -> None:
        scale = {**GROWTH["scales"][0], "title": _text(title, title)}
        instruments.upload_definition(session, registry, access.Actor(organisation_id=owner.id, role="admin"),
                                      {**GROWTH, "id": "eigen", "title": _text(title, title), "scales": [scale]},
                                      "eigen.yaml")
        session.commit()

    own(other, "Geheim van Zuid")  # uploaded first: the first row a lookup without the organisation finds
    own(org, "Samen koken")
    ids = {}
    for owner in (org, other):
        slug = new_project(app, session, owner, ["eigen"])
        badges.set_rule(context(app, session, owner), slug, "level")
        session.commit()
        answer(app, session, slug, "post", "R-EIGEN", {("eigen", "points"): 35})
        [info] = issued(app, session, owner, slug).values()
        ids[owner.slug] = payload(info)["credentialSubject"]["achievement"]["id"]
    assert ids["buurtwerk-noord"] != ids["welzijn-zuid"]
    assert ids["buurtwerk-noord"].startswith(f"{BASE_URL}/ob/issuers/buurtwerk-noord/achievements/eigen/1/")
    described = client.get(ids["buurtwerk-noord"].removeprefix(BASE_URL))
    assert described.status_code == 200 and described.get_json()["id"] == ids["buurtwerk-noord"]
    assert "Samen koken" in described.get_json()["description"] and "Zuid" not in described.get_data(as_text=True)
    assert client.get(ids["welzijn-zuid"].removeprefix(BASE_URL)).get_json()["name"] == "Geheim van Zuid: Sterk"
    # The shared address names only installed instruments: an upload is never described there.
    assert client.get("/ob/achievements/eigen/1/together/strong").status_code == 404


def test_verify_judges_hostile_and_out_of_date_credentials(app, session, client, earned):
    """HS256 with the published key as its secret, a key named by a wrong kid, and credentials that were truly
    signed by the organisation's key but say they start tomorrow or ended yesterday."""
    from datetime import UTC, datetime, timedelta

    from surveyhub.models import SigningKey

    _slug, found = earned
    info = found[("R-GROEI", "improvement")]
    header, claims = pyjwt.get_unverified_header(info.jwt), payload(info)
    public = pyjwt.utils.base64url_decode(client.get(header["kid"].removeprefix(BASE_URL)).get_json()["x"])
    forged = pyjwt.encode({**claims, "credentialSubject": {**claims["credentialSubject"], "narrative": "x"}},
                          public, algorithm="HS256", headers={"kid": header["kid"]})
    assert badge_credentials.verify(session, forged, BASE_URL).status == "unknown_issuer"
    wrong_kid = pyjwt.encode(claims, b"k" * 32, algorithm="HS256",
                             headers={"kid": header["kid"].rsplit("/", 1)[0] + "/nokey"})
    assert badge_credentials.verify(session, wrong_kid, BASE_URL).status == "unknown_issuer"
    key = session.scalar(select(SigningKey))
    now = datetime.now(UTC)

    def signed(sub: str | None = None, **changes) -> str:
        changed = {**claims, **changes}
        jwt_claims = {**badge_credentials.jwt_claims(changed), **({"sub": sub} if sub else {})}
        return badge_credentials.sign({**changed, **jwt_claims}, key, BASE_URL, "buurtwerk-noord")

    tomorrow = badge_credentials.iso(now + timedelta(days=1))
    assert badge_credentials.verify(session, signed(validFrom=tomorrow), BASE_URL).status == "not_yet_valid"
    yesterday = badge_credentials.iso(now - timedelta(days=1))
    assert badge_credentials.verify(session, signed(validUntil=yesterday), BASE_URL).status == "expired"
    assert badge_credentials.verify(session, signed(), BASE_URL).status == "valid"
    assert badge_credentials.verify(session, signed(sub="urn:uuid:someone-else"), BASE_URL).status == "malformed"


def test_where_lower_is_better_the_level_badge_is_for_the_best_level_not_the_worst(app, session, org):
    """A worry scale's highest level is 'many worries': by default the badge is for its best (lowest) level, and
    a chosen level counts down from there; a resident with many worries never gets a badge for them."""
    slug = new_project(app, session, org, ["worry"])
    badges.set_rule(context(app, session, org), slug, "level")
    session.commit()
    for code, score in (("R-RUSTIG", 5), ("R-WAT", 25), ("R-VEEL", 38)):
        answer(app, session, slug, "post", code, {("worry", "points"): score})
    found = issued(app, session, org, slug)
    assert {(code, info.level) for (code, _kind), info in found.items()} == {("R-RUSTIG", "few-worries")}
    badges.set_rule(context(app, session, org), slug, "level", "some-worries")
    session.commit()
    found = issued(app, session, org, slug)
    assert {(code, info.level) for (code, _kind), info in found.items()} == {("R-RUSTIG", "few-worries"),
                                                                             ("R-WAT", "some-worries")}
