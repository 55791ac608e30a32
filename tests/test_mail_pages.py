"""E-mail on the worker's pages and the resident's opt-out (issue 13, point 2).

Driven through the test client as a worker would, against a real SMTP server in-process (aiosmtpd): the
queue runs in the request (``QUEUE_URL=immediate``), so what the confirmation promised has arrived when
the page answers.
"""

from __future__ import annotations

import re
import socket
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from surveyhub.models import OutboxMessage, Participant, Project, Wave
from surveyhub.services import access, participants, projects
from tests.fixtures.factories import csrf_token


class Inbox:
    """What the SMTP server received: (recipients, parsed message)."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def mail_settings(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0], "MAIL_FROM": "surveyhub@buurtwerk.test"}


@pytest.fixture
def app_config(app_config, request):
    """E-mail set up, unless the test asks for ``no_mail``."""
    if "no_mail" in request.fixturenames:
        return app_config
    return {**app_config, **request.getfixturevalue("mail_settings")}


@pytest.fixture
def no_mail():
    """Marker fixture: this test runs on a server without e-mail."""


@pytest.fixture
def place(org_people, make_project, session):
    """A project whose pre wave is open, with three residents: two with an address, one without."""
    org = org_people["org"]
    project = make_project(org, "Buurttuin")
    admin = access.Actor(organisation_id=org.id, role="admin")
    added = participants.add_participants(session, admin, project.slug, entries=[
        ("Zoë Çelik", "zoe@example.org"), ("Bram", "bram@example.org"), ("Cor", None)])
    session.commit()
    return {"slug": project.slug, "codes": [a.code for a in added], "tokens": [a.token for a in added],
            "org": org, **org_people}


@pytest.fixture
def worker(client_for, place):
    return client_for(place["worker"].email)


def _outbox(session, slug: str) -> list[tuple[str, str, str]]:
    session.expire_all()
    return [(code, kind, status) for code, kind, status in session.execute(
        select(Participant.code, OutboxMessage.kind, OutboxMessage.status)
        .join(Participant, Participant.id == OutboxMessage.participant_id)
        .join(Project, Project.id == OutboxMessage.project_id).where(Project.slug == slug)
        .order_by(OutboxMessage.id))]


# --- inviting ---------------------------------------------------------------------------------------------

def test_the_confirmation_counts_then_sends_once(worker, place, session, smtp):
    slug, (zoe, bram, _cor) = place["slug"], place["codes"]
    project_page = worker.get(f"/projects/{slug}")
    assert "Uitnodiging mailen" in project_page.text
    confirm = worker.get(f"/projects/{slug}/waves/pre/invite")
    assert confirm.status_code == 200
    assert "2 bewoners krijgen een e-mail" in confirm.text
    assert "1 bewoner heeft geen e-mailadres" in confirm.text
    assert "kregen al een uitnodiging" not in confirm.text and not _outbox(session, slug)  # nothing sent yet

    sent = worker.post(f"/projects/{slug}/waves/pre/invite",
                       data={"csrf_token": csrf_token(confirm.text), "confirmed": "yes"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/projects/{slug}")
    assert sorted(_outbox(session, slug)) == sorted([(zoe, "invitation", "sent"), (bram, "invitation", "sent")])
    _port, inbox = smtp
    assert sorted(to for recipients, _m in inbox.messages for to in recipients) == ["bram@example.org",
                                                                                   "zoe@example.org"]
    assert "2 uitnodigingen zijn onderweg" in worker.get(sent.headers["Location"]).text

    again = worker.get(f"/projects/{slug}/waves/pre/invite")
    assert "0 bewoners krijgen een e-mail" in again.text and "2 bewoners kregen al een uitnodiging" in again.text
    assert "Verstuur" not in again.text  # nothing to send: no send button
    worker.post(f"/projects/{slug}/waves/pre/invite", data={"csrf_token": csrf_token(again.text), "confirmed": "yes"})
    assert len(inbox.messages) == 2 and len(_outbox(session, slug)) == 2


def test_chosen_residents_on_the_residents_page(worker, place, session, smtp):
    slug, (zoe, _bram, cor) = place["slug"], place["codes"]
    page = worker.get(f"/projects/{slug}/participants")
    assert "Uitnodiging mailen" in page.text
    token = csrf_token(page.text)
    confirm = worker.post(f"/projects/{slug}/waves/pre/invite?back=residents",
                          data={"csrf_token": token, "chosen": "yes", "participant": [zoe, cor]})
    assert confirm.status_code == 200
    assert "1 bewoner krijgt een e-mail" in confirm.text and "1 bewoner heeft geen e-mailadres" in confirm.text
    sent = worker.post(f"/projects/{slug}/waves/pre/invite",
                       data={"csrf_token": token, "chosen": "yes", "participant": [zoe, cor], "back": "residents",
                             "confirmed": "yes"})
    assert sent.headers["Location"].endswith(f"/projects/{slug}/participants")
    assert _outbox(session, slug) == [(zoe, "invitation", "sent")]
    assert smtp[1].messages[0][0] == ["zoe@example.org"]
    overview = worker.get(f"/projects/{slug}/participants").text
    assert re.search(r'class="hint mail-line">Uitnodiging Nulmeting: verstuurd \d', overview)
    assert 'class="hint mail-line">Heeft een e-mailadres' in overview  # Bram: not invited yet

    nobody = worker.post(f"/projects/{slug}/waves/pre/invite",
                         data={"csrf_token": token, "chosen": "yes", "back": "residents"})
    assert nobody.status_code == 302 and len(_outbox(session, slug)) == 1


def test_one_resident_page_shows_what_was_sent_when(worker, place, session, smtp):
    slug, (_zoe, bram, cor) = place["slug"], place["codes"]
    page = worker.get(f"/projects/{slug}/participants/{bram}")
    assert "Nog geen e-mail" in page.text and "Uitnodiging mailen" in page.text
    confirm = worker.post(f"/projects/{slug}/waves/pre/invite",
                          data={"csrf_token": csrf_token(page.text), "participant": bram, "back": "resident"})
    assert "1 bewoner krijgt een e-mail" in confirm.text
    sent = worker.post(f"/projects/{slug}/waves/pre/invite",
                       data={"csrf_token": csrf_token(page.text), "participant": bram, "back": "resident",
                             "chosen": "yes", "confirmed": "yes"})
    assert sent.headers["Location"].endswith(f"/projects/{slug}/participants/{bram}")
    history = worker.get(f"/projects/{slug}/participants/{bram}").text
    assert "Wat is wanneer verstuurd" in history and "verstuurd " in history
    # A resident without an address gets no invitation button.
    assert "Uitnodiging mailen" not in worker.get(f"/projects/{slug}/participants/{cor}").text


def test_a_failed_message_says_why(worker, place, session, app):
    slug, (zoe, _bram, _cor) = place["slug"], place["codes"]
    app.config["SMTP_PORT"] = _free_port()  # nobody listens: the message fails (or waits to be tried again)
    page = worker.get(f"/projects/{slug}/participants/{zoe}")
    worker.post(f"/projects/{slug}/waves/pre/invite",
                data={"csrf_token": csrf_token(page.text), "participant": zoe, "chosen": "yes", "confirmed": "yes"})
    history = worker.get(f"/projects/{slug}/participants/{zoe}").text
    [(code, kind, status)] = _outbox(session, slug)
    assert status in ("queued", "failed")
    assert ("mislukt:" if status == "failed" else "in de wachtrij") in history


def test_not_configured_no_buttons_and_one_line_for_an_admin(no_mail, client_for, place, session):
    slug, (zoe, _bram, _cor) = place["slug"], place["codes"]
    worker = client_for(place["worker"].email)
    for url in (f"/projects/{slug}", f"/projects/{slug}/participants", f"/projects/{slug}/participants/{zoe}"):
        text = worker.get(url).text
        assert "Uitnodiging mailen" not in text and "SURVEYHUB_SMTP_HOST" not in text, url
    admin = client_for(place["admin"].email)
    assert "SURVEYHUB_SMTP_HOST" in admin.get(f"/projects/{slug}").text
    refused = worker.get(f"/projects/{slug}/waves/pre/invite")
    assert refused.status_code == 302 and not _outbox(session, slug)
    opening = worker.get(f"/projects/{slug}/waves/post/opening")
    assert opening.status_code == 200 and "mail de uitnodiging" not in opening.text


def test_a_closed_wave_cannot_be_invited_to(worker, place, session):
    slug = place["slug"]
    refused = worker.get(f"/projects/{slug}/waves/post/invite")
    assert refused.status_code == 302 and not _outbox(session, slug)
    assert "niet open" in worker.get(refused.headers["Location"]).text


# --- opening a wave with the invitation -------------------------------------------------------------------

def test_opening_a_wave_mails_the_invitation_when_ticked(worker, place, session, smtp):
    slug = place["slug"]
    project_page = worker.get(f"/projects/{slug}")
    assert f"/projects/{slug}/waves/post/opening" in project_page.text
    confirm = worker.get(f"/projects/{slug}/waves/post/opening")
    assert "mail de uitnodiging meteen" in confirm.text
    [box] = re.findall(r'<input[^>]*name="mail"[^>]*>', confirm.text)
    assert " checked" in box  # e-mail is set up: ticked
    assert "2 bewoners krijgen een e-mail" in confirm.text
    opened = worker.post(f"/projects/{slug}/waves/post/opening",
                         data={"csrf_token": csrf_token(confirm.text), "mail": "y"})
    assert opened.status_code == 302
    session.expire_all()
    assert session.scalar(select(Wave.status).join(Project).where(Project.slug == slug, Wave.kind == "post")) == "open"
    assert [(kind, status) for _c, kind, status in _outbox(session, slug)] == [("invitation", "sent")] * 2
    assert len(smtp[1].messages) == 2


def test_opening_a_wave_without_the_box_sends_nothing(worker, place, session, smtp):
    slug = place["slug"]
    confirm = worker.get(f"/projects/{slug}/waves/post/opening")
    worker.post(f"/projects/{slug}/waves/post/opening", data={"csrf_token": csrf_token(confirm.text)})
    session.expire_all()
    assert session.scalar(select(Wave.status).join(Project).where(Project.slug == slug, Wave.kind == "post")) == "open"
    assert not _outbox(session, slug) and not smtp[1].messages


# --- a resident's address ----------------------------------------------------------------------------------

def test_the_worker_edits_an_address(worker, place, session):
    slug, (zoe, _bram, cor) = place["slug"], place["codes"]
    page = worker.get(f"/projects/{slug}/participants/{cor}")
    url = f"/projects/{slug}/participants/{cor}/email"
    saved = worker.post(url, data={"csrf_token": csrf_token(page.text), "email": "  cor@example.org "})
    assert saved.status_code == 302

    def address(code):
        session.expire_all()
        return session.scalar(select(Participant.email).where(Participant.code == code))

    assert address(cor) == "cor@example.org"
    bad = worker.post(url, data={"csrf_token": csrf_token(page.text), "email": "cor@@example"}, follow_redirects=True)
    assert "geen e-mailadres" in bad.text and address(cor) == "cor@example.org"
    hostile = worker.post(url, data={"csrf_token": csrf_token(page.text),
                                     "email": "a@b.nl\r\nBcc: evil@x.nl"}, follow_redirects=True)
    assert address(cor) == "cor@example.org" and "geen e-mailadres" in hostile.text
    worker.post(url, data={"csrf_token": csrf_token(page.text), "email": ""})
    assert address(cor) is None  # optional: it can go again
    forged = worker.post(f"/projects/{slug}/participants/{zoe}/email", data={"email": "x@example.org"})
    assert forged.status_code in (302, 400) and address(zoe) == "zoe@example.org"


# --- dates and reminders ----------------------------------------------------------------------------------

def test_wave_dates_and_reminders(worker, place, session):
    slug = place["slug"]
    url = f"/projects/{slug}/schedule"
    assert url in worker.get(f"/projects/{slug}/edit").text  # found from the project's settings too
    page = worker.get(url)
    assert page.status_code == 200 and "Herinnering" in page.text
    assert "alleen naar bewoners met een e-mailadres" in page.text
    today = date.today()
    good = {"csrf_token": csrf_token(page.text), "post-open_on": (today + timedelta(days=10)).isoformat(),
            "post-close_on": (today + timedelta(days=40)).isoformat(), "pre-close_on": (today + timedelta(days=5)).isoformat(),
            "reminder_days": "7", "reminder_count": "2"}
    assert worker.post(url, data=good).status_code == 302
    session.expire_all()
    project = session.scalar(select(Project).where(Project.slug == slug))
    waves = {w.kind: w for w in project.waves}
    assert waves["post"].open_on == today + timedelta(days=10) and waves["post"].close_on == today + timedelta(days=40)
    assert waves["pre"].close_on == today + timedelta(days=5) and waves["pre"].open_on is None  # the pre wave is open
    assert (project.reminder_days, project.reminder_count) == (7, 2)

    for wrong, says in ((dict(good, **{"post-close_on": (today + timedelta(days=9)).isoformat()}), "voordat"),
                        (dict(good, **{"followup-open_on": (today - timedelta(days=1)).isoformat()}), "voorbij"),
                        (dict(good, reminder_days="0"), "1 tot 60"),
                        (dict(good, reminder_count="4"), "")):
        refused = worker.post(url, data=wrong)
        assert refused.status_code == 200 and says in refused.text, wrong
    worker.post(url, data=dict(good, reminder_days=""))
    session.expire_all()
    assert session.scalar(select(Project.reminder_days).where(Project.slug == slug)) is None  # empty: no reminders


# --- the resident stops reminders -------------------------------------------------------------------------

def _opted_out(session, code) -> bool:
    session.expire_all()
    return session.scalar(select(Participant.reminders_opt_out_at).where(Participant.code == code)) is not None


def test_opt_out_page_then_button(client, place, session):
    token, code = place["tokens"][0], place["codes"][0]
    page = client.get(f"/q/{token}/geen-herinneringen")
    assert page.status_code == 200
    assert "Stuur mij geen herinneringen meer" in page.text and "nog steeds invullen" in page.text
    assert not _opted_out(session, code)  # a GET (a mail scanner) changes nothing
    assert client.post(f"/q/{token}/geen-herinneringen", data={}).status_code == 200
    assert not _opted_out(session, code)  # no CSRF token, not one-click: nothing happens
    done = client.post(f"/q/{token}/geen-herinneringen", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200 and "geen herinneringen meer" in done.text and _opted_out(session, code)


def test_one_click_unsubscribe(client, place, session):
    token, code = place["tokens"][1], place["codes"][1]
    extra = client.post(f"/q/{token}/geen-herinneringen", data={"List-Unsubscribe": "One-Click", "x": "1"})
    assert extra.status_code == 200 and not _opted_out(session, code)  # only the exact body counts
    done = client.post(f"/q/{token}/geen-herinneringen", data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and _opted_out(session, code)


def test_an_older_reminders_link_still_stops_reminders(client, place, session):
    """The worker made a new link after a reminder went out: the old link's opt-out still works."""
    token, code, org = place["tokens"][2], place["codes"][2], place["org"]
    participants.renew_link(session, access.Actor(organisation_id=org.id, role="admin"), place["slug"], code)
    session.commit()
    page = client.get(f"/q/{token}/geen-herinneringen")
    assert page.status_code == 200 and f"/q/{token}\"" not in page.text  # no link to a questionnaire it cannot open
    client.post(f"/q/{token}/geen-herinneringen", data={"csrf_token": csrf_token(page.text)})
    assert _opted_out(session, code)
    assert client.get("/q/bad%00token/geen-herinneringen").status_code == 404


def test_opt_out_speaks_the_residents_language(client, place, session):
    token = place["tokens"][0]
    page = client.get(f"/q/{token}/geen-herinneringen?lang=en")
    assert "Send me no more reminders" in page.text
    arabic = client.get(f"/q/{token}/geen-herinneringen?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic.text and "لا ترسلوا لي تذكيرات بعد الآن" in arabic.text
    assert "Bana artık hatırlatma gönderme" in client.get(f"/q/{token}/geen-herinneringen?lang=tr").text


def test_unknown_links_count_as_misses(app, client):
    app.config["TOKEN_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get(f"/q/not-a-token-{n}/geen-herinneringen").status_code for n in range(5)]
    assert statuses[:3] == [404] * 3 and 429 in statuses[3:]


# --- who may -----------------------------------------------------------------------------------------------

def test_funders_and_other_organisations_get_404(place, client_for, make_org, make_user, session):
    slug, (zoe, _bram, _cor) = place["slug"], place["codes"]
    admin = access.Actor(organisation_id=place["org"].id, role="admin")
    projects.set_share(session, admin, slug, place["funder"].email, True)
    session.commit()
    other_admin = make_user("admin", make_org("Welzijn Zuid"))
    for who in (place["funder"].email, other_admin.email):
        user = client_for(who)
        token = csrf_token(user.get("/").text)
        for url in (f"/projects/{slug}/schedule", f"/projects/{slug}/waves/pre/invite",
                    f"/projects/{slug}/waves/post/opening"):
            assert user.get(url).status_code == 404, (who, url)
        for url in (f"/projects/{slug}/waves/pre/invite", f"/projects/{slug}/waves/post/opening",
                    f"/projects/{slug}/participants/{zoe}/email", f"/projects/{slug}/schedule"):
            assert user.post(url, data={"csrf_token": token, "confirmed": "yes", "email": "x@example.org",
                                        "mail": "y"}).status_code == 404, (who, url)
        shown = user.get(f"/projects/{slug}").text
        assert "zoe@example.org" not in shown and "Uitnodiging mailen" not in shown
    assert not _outbox(session, slug)
