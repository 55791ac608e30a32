"""Reminders, the resident's opt-out, waves that open and close on their dates, and ``surveyhub invite``.

Read at a real SMTP server in the test process (tests/fixtures/smtp.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from surveyhub.models import AuditEvent, OutboxMessage, Participant, Project, Response, Wave
from surveyhub.models._types import utcnow
from surveyhub.services import access, invitations, mail, projects

from tests.fixtures.smtp import add_residents as add
from tests.fixtures.smtp import make_place, with_mail

BASE = "http://surveyhub.test"


@pytest.fixture
def app_config(app_config, smtp_server):
    return with_mail(app_config, smtp_server)


@pytest.fixture
def place(app, session, make_org, make_project):
    return make_place(make_org, make_project, "Buurtwerk Noord", "Buurttuin")


def wave(session, place, kind) -> Wave:
    return session.scalar(select(Wave).join(Project).where(Project.slug == place["slug"], Wave.kind == kind))


def open_days_ago(session, place, kind, days):
    projects.set_wave_status(session, place["actor"], place["slug"], kind, "open")
    found = wave(session, place, kind)
    found.opened_at = utcnow() - timedelta(days=days, minutes=1)
    session.commit()


def set_reminders(session, place, days, count):
    session.execute(update(Project).where(Project.slug == place["slug"])
                    .values(reminder_days=days, reminder_count=count))
    session.commit()


def tick_and_send(app, session):
    ids = mail.tick(session, settings=app.config)
    for message_id in ids:
        mail.send_one(session, message_id, settings=app.config)
    return ids


def finish(session, invitation, place, kind):
    participant = session.scalar(select(Participant).where(Participant.code == invitation.code))
    session.add(Response(participant_id=participant.id, wave_id=wave(session, place, kind).id, status="completed",
                         completed_at=utcnow()))
    session.commit()


def test_reminders_go_to_who_has_not_finished_and_carry_the_opt_out(app, session, place, smtp_server):
    fatima, bram, klaar, geen = add(session, place, [("Fatima", "fatima@example.org"), ("Bram", "bram@example.org"),
                                                     ("Klaar", "klaar@example.org"), ("Geen Adres", None)])
    set_reminders(session, place, days=3, count=2)
    open_days_ago(session, place, "post", days=2)
    finish(session, klaar, place, "post")
    assert tick_and_send(app, session) == []  # not due yet: 2 days after opening, the first is after 3

    open_days_ago(session, place, "post", days=3)
    ids = tick_and_send(app, session)
    assert len(ids) == 2
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_server.messages) == \
        ["bram@example.org", "fatima@example.org"]  # not the one who finished, not the one without an address
    mine = next(m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == "fatima@example.org")
    opt_out = f"{BASE}/q/{fatima.token}/geen-herinneringen"
    assert mine["List-Unsubscribe"].strip() == f"<{opt_out}>"  # a long value is folded onto its own line
    assert mine["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mine.get_body(("plain",)).get_content()
    assert opt_out in text and f"{BASE}/q/{fatima.token}" in text and "Herinnering" in mine["Subject"]
    assert bram.token not in mine.as_string()
    assert tick_and_send(app, session) == []  # the next minute: nothing twice

    # Fatima stops reminders from the e-mail; six days after opening only Bram gets the second one.
    assert invitations.opt_out(session, fatima.token) is True
    session.commit()
    assert invitations.opt_out(session, "no-such-token") is False
    session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=4)))
    open_days_ago(session, place, "post", days=6)
    smtp_server.messages.clear()
    assert len(tick_and_send(app, session)) == 1
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == ["bram@example.org"]
    keys = set(session.scalars(select(OutboxMessage.dedupe_key)))
    bram_id = session.scalar(select(Participant.id).where(Participant.code == bram.code))
    assert f"reminder:{bram_id}:post:2" in keys
    # At most two: nine days after opening nothing more.
    session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=4)))
    open_days_ago(session, place, "post", days=9)
    assert tick_and_send(app, session) == []
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "participant.reminders_opt_out"))
    assert event.actor == "resident" and fatima.token not in (event.target or "")


def test_a_reminder_queued_before_the_opt_out_is_not_sent(app, session, place, smtp_server):
    [fatima] = add(session, place, [("Fatima", "fatima@example.org")])
    set_reminders(session, place, days=1, count=1)
    open_days_ago(session, place, "post", days=1)
    [message_id] = mail.tick(session, settings=app.config)
    invitations.opt_out(session, fatima.token)
    session.commit()
    assert mail.send_one(session, message_id, settings=app.config) is None
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    assert (row.status, row.error) == ("failed", mail.FAILED_OPTED_OUT) and smtp_server.messages == []


def test_waves_open_and_close_on_their_dates_as_system(app, session, place, smtp_server):
    add(session, place, [("Fatima", "fatima@example.org")])
    today = date(2026, 12, 1)
    post = wave(session, place, "post")
    post.open_on, post.close_on = today, today + timedelta(days=14)
    session.commit()
    assert invitations.apply_wave_dates(session, today - timedelta(days=1), settings=app.config) == []
    assert invitations.apply_wave_dates(session, today, settings=app.config) == [f"{place['slug']}/post opened"]
    session.commit()
    post = wave(session, place, "post")
    assert post.status == "open"
    # Opening by its date queues the invitations (e-mail is set up); the next tick sends them.
    assert session.scalar(select(OutboxMessage.kind).where(OutboxMessage.wave_kind == "post")) == "invitation"
    assert invitations.apply_wave_dates(session, today + timedelta(days=14), settings=app.config) == []
    assert invitations.apply_wave_dates(session, today + timedelta(days=15), settings=app.config) == \
        [f"{place['slug']}/post closed"]
    session.commit()
    assert wave(session, place, "post").status == "closed"
    # A worker who opens it again after its closing day keeps it open: the dates do not close it again.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local_today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    wave(session, place, "post").close_on = local_today - timedelta(days=1)
    session.commit()
    assert invitations.apply_wave_dates(session, local_today, settings=app.config) == []
    assert wave(session, place, "post").status == "open"
    events = [(e.action, e.actor) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(("wave.open", "wave.close"))).order_by(AuditEvent.id))]
    assert events[-3:] == [("wave.open", "system"), ("wave.close", "system"), ("wave.open", "admin")]


def test_surveyhub_invite_waits_until_sent(app, runner, session, place, smtp_server):
    add(session, place, [("Fatima", "fatima@example.org"), ("Bram", "bram@example.org"), ("Geen", None)])
    refused = runner.invoke(args=["invite", place["slug"], "--wave", "post"])
    assert refused.exit_code != 0 and "not open yet" in refused.output
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    result = runner.invoke(args=["invite", place["slug"], "--wave", "post", "--wait", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    assert "2 invitation(s) queued; 1 resident(s) have no e-mail address; 0 had an invitation" in result.output
    assert "2 sent, 0 failed." in result.output
    assert len(smtp_server.messages) == 2
    again = runner.invoke(args=["invite", place["slug"], "--wave", "post", "--wait"])
    assert "0 invitation(s) queued; 1 resident(s) have no e-mail address; 2 had an invitation" in again.output
    assert len(smtp_server.messages) == 2
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "closed")
    session.commit()
    closed = runner.invoke(args=["invite", place["slug"], "--wave", "post"])
    assert closed.exit_code != 0 and "closed" in closed.output


def test_what_was_sent_when_per_resident(app, session, place, smtp_server):
    fatima, bram = add(session, place, [("Fatima", "fatima@example.org"), ("Bram", "bram@example.org")])
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    result = invitations.invite(session, place["actor"], place["slug"], "post", participant_codes=[fatima.code],
                                base_url=BASE, settings=app.config)
    session.commit()
    assert len(result.queued) == 1
    mail.send_one(session, result.queued[0], settings=app.config)
    [sent] = invitations.history(session, place["actor"], place["slug"], fatima.code)
    assert (sent.kind, sent.wave_kind, sent.status, sent.error) == ("invitation", "post", "sent", None)
    assert sent.sent_at is not None
    assert invitations.history(session, place["actor"], place["slug"], bram.code) == []
    other_org = access.Actor(organisation_id=place["org"].id + 999, role="admin")
    from surveyhub.services.errors import NotFound
    with pytest.raises(NotFound):
        invitations.history(session, other_org, place["slug"], fatima.code)


def test_a_wave_opening_on_its_date_today_mails_its_invitations_in_the_same_tick(app, session, place, smtp_server):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    [fatima] = add(session, place, [("Fatima", "fatima@example.org")])
    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    wave(session, place, "post").open_on = today
    session.commit()
    assert len(tick_and_send(app, session)) == 1
    [message] = smtp_server.messages
    assert f"{BASE}/q/{fatima.token}" in message.get_body(("plain",)).get_content()
    assert tick_and_send(app, session) == [] and len(smtp_server.messages) == 1


def test_a_late_invitation_is_followed_by_the_first_reminder_then_the_second(app, session, place, smtp_server):
    [fatima] = add(session, place, [("Fatima", "fatima@example.org")])
    set_reminders(session, place, days=3, count=2)
    open_days_ago(session, place, "post", days=5)
    [invitation] = invitations.invite(session, place["actor"], place["slug"], "post", base_url=BASE,
                                      settings=app.config).queued
    session.commit()
    mail.send_one(session, invitation, settings=app.config)
    assert tick_and_send(app, session) == []  # no reminder right after the invitation, though 5 days > 3
    assert session.scalar(select(OutboxMessage.kind).where(OutboxMessage.kind == "reminder")) is None

    def later(days_opened):
        for message in session.scalars(select(OutboxMessage)):
            message.created_at -= timedelta(days=3)
        session.commit()
        open_days_ago(session, place, "post", days=days_opened)
        return tick_and_send(app, session)

    assert len(later(8)) == 1
    assert len(later(11)) == 1
    assert later(14) == []  # at most two
    keys = sorted(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "reminder")))
    assert [key.rsplit(":", 1)[1] for key in keys] == ["1", "2"]
    assert [m["Subject"].startswith("Herinnering") for m in smtp_server.messages] == [False, True, True]
