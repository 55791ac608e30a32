"""E-mail to residents, read at a real SMTP server (aiosmtpd in the test process): what arrives, once.

Headers (From, To, Subject, Message-ID, List-Unsubscribe), the personal link,
the text and HTML parts, names with accents and hostile names, nobody else's
data in any message; a send retried after "try later" arrives exactly once, a
refused address fails at once, the rate limit holds, a message whose worker
died is sent again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from surveyhub.models import Organisation, OutboxMessage
from surveyhub.models._types import utcnow
from surveyhub.services import invitations, mail, projects

from tests.fixtures.smtp import add_residents as add
from tests.fixtures.smtp import make_place, with_mail

BASE = "http://surveyhub.test"


@pytest.fixture
def app_config(app_config, smtp_server):
    return with_mail(app_config, smtp_server)


@pytest.fixture
def place(app, session, make_org, make_project):
    return make_place(make_org, make_project, "Buurtwerk Noord-Oost", "Speeltuin De Vlinder")


def open_wave(session, place, kind="pre"):
    projects.set_wave_status(session, place["actor"], place["slug"], kind, "open")
    session.commit()


def invite(app, session, place, kind="pre", codes=None):
    result = invitations.invite(session, place["actor"], place["slug"], kind, participant_codes=codes,
                                base_url=BASE, settings=app.config)
    session.commit()
    return result


def send_all(app, session, ids):
    return [mail.send_one(session, message_id, settings=app.config) for message_id in ids]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def test_an_invitation_arrives_with_its_link_and_nobody_elses_data(app, session, place, smtp_server):
    fatima, bram, nobody = add(session, place, [("Fatima", "fatima@example.org"), ("Bram", "bram@example.org"),
                                                ("Zonder Adres", None)])
    session.get_one(Organisation, place["org"].id).contact = \
        "Buurtwerk Noord-Oost · 030 123 45 67 · info@noordoost.example.org"
    session.commit()
    open_wave(session, place)
    result = invite(app, session, place)
    assert (len(result.queued), result.skipped_no_address, result.already_invited) == (2, 1, 0)
    assert send_all(app, session, result.queued) == [None, None]

    assert len(smtp_server.messages) == 2
    by_to = {message["To"].addresses[0].addr_spec: message for message in smtp_server.messages}
    mine = by_to["fatima@example.org"]
    assert mine["From"].addresses[0].display_name == "Buurtwerk Noord-Oost via SurveyHub"
    assert mine["From"].addresses[0].addr_spec == "buurtwerk@surveyhub.test"
    assert mine["To"].addresses[0].display_name == "Fatima"
    assert "Speeltuin De Vlinder" in mine["Subject"]
    assert mine["List-Unsubscribe"] is None  # only reminders carry the opt-out
    assert mine["Reply-To"].addresses[0].addr_spec == "info@noordoost.example.org"  # from the contact line
    assert mine["Content-Language"] == "nl"
    stored = session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "fatima@example.org"))
    assert mine["Message-ID"] == stored.message_id and stored.status == "sent" and stored.sent_at is not None
    assert mine.get_content_type() == "multipart/alternative"
    text, html = text_of(mine), html_of(mine)
    link = f"{BASE}/q/{fatima.token}"
    assert link in text and f'href="{link}"' in html
    assert "Hallo Fatima," in text and "Buurtwerk Noord-Oost" in text and "minuten" in text
    assert "Je hebt geen e-mail nodig om mee te doen" in text  # e-mail is never needed to take part
    assert "Contact: Buurtwerk Noord-Oost · 030 123 45 67" in text and f"{BASE}/k en typ je code" in text
    # Nobody else's name, address or link, in any part or header of the message.
    raw = smtp_server.raw[list(by_to).index("fatima@example.org")].decode()
    for other in (bram, nobody):
        assert other.token not in raw and (other.display_name or "§") not in raw
    assert "bram@example.org" not in raw
    assert smtp_server.envelopes == [["fatima@example.org"], ["bram@example.org"]] or \
        sorted(smtp_server.envelopes) == [["bram@example.org"], ["fatima@example.org"]]

    again = invite(app, session, place)  # a second press queues nothing: everyone had one for this wave
    assert (again.queued, again.skipped_no_address, again.already_invited) == ([], 1, 2)


def test_names_with_accents_and_hostile_names_stay_names(app, session, place, smtp_server):
    hostile = 'Eve\r\nBcc: spy@evil.test'
    quoted = 'Mallory "the <boss>" <x@evil.test>'
    add(session, place, [("Zoë Çelik", "zoe@example.org"), (hostile, "eve@example.org"),
                         (quoted, "mallory@example.org")])
    open_wave(session, place)
    result = invite(app, session, place)
    send_all(app, session, result.queued)
    names = {m["To"].addresses[0].addr_spec: m["To"].addresses[0].display_name for m in smtp_server.messages}
    assert names["zoe@example.org"] == "Zoë Çelik"
    assert names["eve@example.org"] == "Eve Bcc: spy@evil.test"  # one name, never a header
    assert names["mallory@example.org"] == 'Mallory "the <boss>" <x@evil.test>'
    for message, raw, envelope in zip(smtp_server.messages, smtp_server.raw, smtp_server.envelopes):
        assert message["Bcc"] is None and len(envelope) == 1 and "evil.test" not in envelope[0]
        assert len(message["To"].addresses) == 1
        assert all(byte < 128 for byte in raw.split(b"\r\n\r\n", 1)[0])  # headers encoded, never raw UTF-8
    zoe = next(m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == "zoe@example.org")
    assert "Zoë Çelik" in text_of(zoe)
    mallory = next(m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == "mallory@example.org")
    assert "&lt;boss&gt;" in html_of(mallory) and "<boss>" not in html_of(mallory)


def test_a_send_tried_again_after_try_later_arrives_exactly_once(app, session, place, smtp_server):
    add(session, place, [("Fatima", "fatima@example.org")])
    open_wave(session, place)
    [message_id] = invite(app, session, place).queued
    smtp_server.answers.append("451 4.3.0 Try again later")
    wait = mail.send_one(session, message_id, settings=app.config)
    assert wait is not None and wait > 0 and smtp_server.messages == []
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    assert (row.status, row.attempts) == ("queued", 1)
    assert mail.send_one(session, message_id, settings=app.config) is None
    assert mail.send_one(session, message_id, settings=app.config) is None  # a duplicated task: nothing
    assert len(smtp_server.messages) == 1
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_refused_address_fails_at_once_and_endless_try_later_fails_after_five(app, session, place, smtp_server):
    add(session, place, [("Fatima", "fatima@example.org"), ("Bram", "bram@example.org")])
    open_wave(session, place)
    ids = invite(app, session, place).queued
    smtp_server.refuse.add("fatima@example.org")
    refused = session.scalar(select(OutboxMessage.id).where(OutboxMessage.to_address == "fatima@example.org"))
    assert mail.send_one(session, refused, settings=app.config) is None
    row = session.get(OutboxMessage, refused, populate_existing=True)
    assert (row.status, row.error) == ("failed", mail.FAILED_REFUSED)
    other = next(i for i in ids if i != refused)
    smtp_server.answers.extend(["421 4.7.0 Busy"] * 5)
    waits = [mail.send_one(session, other, settings=app.config) for _ in range(5)]
    assert all(w is not None for w in waits[:4]) and waits[4] is None
    assert waits[:4] == sorted(waits[:4])  # waiting longer each time
    row = session.get(OutboxMessage, other, populate_existing=True)
    assert (row.status, row.attempts, row.error) == ("failed", 5, mail.FAILED_TRIES)
    assert smtp_server.messages == []


def test_the_rate_limit_holds_across_calls(app, session, place, smtp_server):
    app.config["MAIL_RATE_LIMIT"] = "2 per hour"
    add(session, place, [(f"R{i}", f"r{i}@example.org") for i in range(3)])
    open_wave(session, place)
    ids = invite(app, session, place).queued
    results = send_all(app, session, ids)
    assert results[:2] == [None, None] and results[2] is not None and results[2] > 0
    assert len(smtp_server.messages) == 2
    assert session.get(OutboxMessage, ids[2], populate_existing=True).status == "queued"


def test_a_message_whose_worker_died_is_sent_again_with_the_same_message_id(app, session, place, smtp_server):
    add(session, place, [("Fatima", "fatima@example.org")])
    open_wave(session, place)
    [message_id] = invite(app, session, place).queued
    long_ago = utcnow() - timedelta(hours=1)
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(status="sending", claimed_at=long_ago, created_at=long_ago))
    session.commit()
    assert mail.send_one(session, message_id, settings=app.config) is None and smtp_server.messages == []
    assert message_id in mail.tick(session, settings=app.config)  # back in the queue, handed over again
    mail.send_one(session, message_id, settings=app.config)
    stored = session.get(OutboxMessage, message_id, populate_existing=True)
    assert smtp_server.message_ids() == [stored.message_id] and stored.status == "sent"


def test_inviting_needs_an_open_wave_and_mail_set_up(app, session, place):
    from surveyhub.services.errors import Invalid, UserError

    add(session, place, [("Fatima", "fatima@example.org")])
    with pytest.raises(Invalid, match="not open yet"):
        invite(app, session, place, "post")
    open_wave(session, place, "post")
    app.config["SMTP_HOST"] = ""
    assert not mail.configured(app.config)
    with pytest.raises(UserError, match="not set up"):
        invite(app, session, place, "post")
    session.rollback()
    assert session.scalar(select(OutboxMessage.id)) is None


def test_smtp_settings_are_checked_at_start(tmp_path):
    from surveyhub import create_app
    from surveyhub.config import ConfigError

    base = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "t", "TESTING": True}
    with pytest.raises(ConfigError, match="SMTP_SECURITY"):
        create_app({**base, "SMTP_SECURITY": "tls"})
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        create_app({**base, "SMTP_HOST": "mail.example.org", "MAIL_FROM": "Buurtwerk"})
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        create_app({**base, "SMTP_HOST": "mail.example.org"})


def test_each_resident_gets_the_mail_in_their_own_language(app, session, place, smtp_server):
    from surveyhub.models import Participant, Response, Wave

    found = add(session, place, [("Ahmad", "ahmad@example.org"), ("Emma", "emma@example.org"),
                                 ("Ayşe", "ayse@example.org"), ("Henk", "henk@example.org")])
    open_wave(session, place)
    pre = session.scalar(select(Wave).where(Wave.kind == "pre"))
    for invitation, lang in zip(found[:3], ("ar", "en", "tr")):
        participant = session.scalar(select(Participant).where(Participant.code == invitation.code))
        session.add(Response(participant_id=participant.id, wave_id=pre.id, language=lang))
    session.commit()
    send_all(app, session, invite(app, session, place).queued)
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
    arabic = by_to["ahmad@example.org"]
    assert arabic["Content-Language"] == "ar" and 'dir="rtl"' in html_of(arabic)
    assert "مرحبًا Ahmad،" in text_of(arabic) and f"{BASE}/q/{found[0].token}" in text_of(arabic)
    assert by_to["emma@example.org"]["Subject"] == "Speeltuin De Vlinder: will you fill in the questionnaire?"
    assert "Merhaba Ayşe," in text_of(by_to["ayse@example.org"])
    assert "Hallo Henk," in text_of(by_to["henk@example.org"])  # no language of their own: the project's
    stored = dict(session.execute(select(OutboxMessage.to_address, OutboxMessage.language)).all())
    assert stored == {"ahmad@example.org": "ar", "emma@example.org": "en", "ayse@example.org": "tr",
                      "henk@example.org": "nl"}
