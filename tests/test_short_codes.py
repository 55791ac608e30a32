"""Short codes (issue 11, item 4): a printed personal link a resident can type over.

Every personal link has an eight-character code from an alphabet without
look-alikes; ``/k/<code>`` opens the link as ``/q/<token>`` does, whatever the
case, dashes or look-alike characters typed; a renewed link's old code stops
working; and guesses use up the same budget as guessed tokens.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from surveyhub.models import Token
from surveyhub.services import access, participants, short_codes


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TOKEN_RATE_LIMIT": "4 per day"}  # a day: no window ends mid-test


@pytest.fixture
def residents(app, session, make_org, make_project):
    org = make_org()
    project = make_project(org)
    actor = access.Actor(organisation_id=org.id, role="admin")
    invitations = participants.add_participants(session, actor, project.slug, count=3)
    session.commit()
    return {"project": project, "actor": actor, "invitations": invitations}


# --- the code itself ------------------------------------------------------------------------------

def test_the_alphabet_keeps_one_of_every_look_alike_group():
    alphabet = set(short_codes.ALPHABET)
    assert not alphabet & set("0O1lIoi")
    for group in ("0OQD", "1IL7", "2Z", "5S", "6G", "8B", "UV"):
        assert len(alphabet & set(group)) <= 1, group
    code = short_codes.new()
    assert len(code) == 8 and set(code) <= alphabet
    assert short_codes.display("K7P29XMC") == "K7P2-9XMC"


@pytest.mark.parametrize("typed", ["K7P2-9XMC", "k7p29xmc", " k7p2 9xmc ", "K7P2–9XMC", "k7p2.9xmc",
                                   "K7P2-9XMC".replace("2", "Z"), "k7pz-9xmc"])
def test_a_typed_code_is_read_forgivingly(typed):
    assert short_codes.normalise(typed) == "K7P29XMC"


def test_look_alikes_typed_for_kept_characters_land_on_the_right_code():
    assert short_codes.normalise("S6B8-UV2Z") == short_codes.normalise("5688-VV22") == "5688VV22"


@pytest.mark.parametrize("typed", [None, "", "K7P2-9XM", "K7P2-9XMCA", "K7P2-9XM0", "K7P2-9XMI", "K7P2/9XMC",
                                   "K" * 200])
def test_what_cannot_be_a_code_is_refused(typed):
    assert short_codes.normalise(typed) is None


# --- links ----------------------------------------------------------------------------------------

def test_every_new_link_has_a_unique_short_code(app, session, make_org, make_project):
    org = make_org()
    project = make_project(org)
    actor = access.Actor(organisation_id=org.id, role="admin")
    invitations = participants.add_participants(session, actor, project.slug, count=120)
    session.commit()
    codes = [invitation.short_code for invitation in invitations]
    assert all(code and short_codes.normalise(code) == code for code in codes)
    assert len(set(codes)) == len(codes)
    assert invitations[0].short_link("http://x.test") == f"http://x.test/k/{short_codes.display(codes[0])}"


def without_csrf(html: str) -> str:
    return re.sub(r'<input[^>]*name="csrf_token"[^>]*>', "<csrf>", html)


def test_a_short_code_opens_the_personal_link(client, residents):
    invitation = residents["invitations"][0]
    shown = short_codes.display(invitation.short_code)
    for typed in (shown, shown.lower(), invitation.short_code.lower()):
        response = client.get(f"/k/{typed}")
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/q/{invitation.token}")
    # ... and leads to the same page as the long link, which offers the short link to write down
    start = client.get(f"/q/{invitation.token}").text
    # the same page, but for its CSRF token, which carries the second it was made (a page made a second later
    # differs there; a loaded machine crosses a second between the two requests now and then)
    assert without_csrf(client.get(f"/k/{shown}", follow_redirects=True).text) == without_csrf(start)
    assert f"http://surveyhub.test/k/{shown}" in start


def test_a_resident_can_type_the_code_on_a_page(client, residents):
    invitation = residents["invitations"][1]
    page = client.get("/k")
    assert page.status_code == 200 and 'name="code"' in page.text
    typed = short_codes.display(invitation.short_code).lower().replace("-", " ")
    sent = client.post("/k", data={"code": typed})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/q/{invitation.token}")
    wrong = client.post("/k", data={"code": "AAAA-AAAA"})
    assert wrong.status_code == 404 and 'name="code"' in wrong.text and 'role="alert"' in wrong.text


def test_a_renewed_links_old_code_stops_working(client, session, residents):
    invitation = residents["invitations"][0]
    participants.renew_link(session, residents["actor"], residents["project"].slug, invitation.code)
    session.commit()
    assert client.get(f"/k/{invitation.short_code}").status_code == 404
    token, code = participants.view_links(session, residents["actor"], residents["project"].slug, invitation.code)
    session.commit()
    assert code != invitation.short_code
    assert client.get(f"/k/{code}").headers["Location"].endswith(f"/q/{token}")


def test_a_link_made_before_short_codes_gets_one_when_a_worker_looks(client, session, residents):
    invitation = residents["invitations"][2]
    session.execute(update(Token).where(Token.token == invitation.token).values(short_code=None))
    session.commit()
    token, code = participants.view_links(session, residents["actor"], residents["project"].slug, invitation.code)
    session.commit()
    assert token == invitation.token and short_codes.normalise(code) == code
    assert session.scalar(select(Token.short_code).where(Token.token == token)) == code
    assert client.get(f"/k/{code}").headers["Location"].endswith(f"/q/{token}")


# --- guessing -------------------------------------------------------------------------------------

def test_guessed_codes_share_the_token_budget_and_never_lock_out_a_real_code(client, residents):
    real = residents["invitations"][0].short_code
    assert [client.get(url).status_code for url in ("/k/AAAA-AAAA", "/q/guess", "/k/nonsense")] == [404] * 3
    assert client.post("/k", data={"code": "CCCC-CCCC"}).status_code == 404  # the fourth miss: still allowed
    assert client.get("/k/DDDD-DDDD").status_code == 429
    assert client.post("/k", data={"code": "EEEE-EEEE"}).status_code == 429
    assert client.get("/q/guess-again").status_code == 429
    assert client.get(f"/k/{real}").status_code == 302  # a working code is never counted or refused
    assert client.get("/k/FFFF-FFFF", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 404


def test_short_codes_have_a_stricter_budget_of_their_own_per_address(app, client, residents):
    app.config["TOKEN_RATE_LIMIT"] = "100 per day"
    app.config["SHORT_CODE_RATE_LIMIT"] = "2 per day"
    assert [client.get(f"/k/{c * 4}-{c * 4}").status_code for c in "AC"] == [404, 404]
    assert client.get("/k/DDDD-DDDD").status_code == 429
    assert client.get("/q/a-long-token-guess").status_code == 404  # tokens keep their own, larger budget
    assert client.get(f"/k/{residents['invitations'][0].short_code}").status_code == 302


def test_guesses_from_many_addresses_add_up_in_one_budget(app, client, residents):
    # ~37 bits: a botnet trying a few codes from each of many addresses must still run out.
    app.config["TOKEN_RATE_LIMIT"] = app.config["SHORT_CODE_RATE_LIMIT"] = "100 per day"
    app.config["SHORT_CODE_TOTAL_RATE_LIMIT"] = "3 per day"
    sent = [client.get(f"/k/{c * 4}-{c * 4}", environ_base={"REMOTE_ADDR": f"192.0.2.{i}"}).status_code
            for i, c in enumerate("ACDE", start=1)]
    assert sent == [404, 404, 404, 429]
    assert client.get(f"/k/{residents['invitations'][0].short_code}").status_code == 302
    assert client.get("/q/another-guess", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 404


def test_a_resident_who_starts_with_an_own_code_gets_a_short_link_too(client, session, residents):
    from tests.fixtures.factories import csrf_token

    page = client.get(f"/a/{residents['project'].anonymous_token}")
    sent = client.post(f"/a/{residents['project'].anonymous_token}", data={
        "csrf_token": csrf_token(page.text), "mother": "A", "father": "B", "month": "3", "brothers": "1",
        "sisters": "0", "birthplace": "U"})
    assert sent.status_code == 302, sent.text
    token = sent.headers["Location"].rsplit("/q/", 1)[1]
    code = session.scalar(select(Token.short_code).where(Token.token == token))
    assert code and short_codes.normalise(code) == code
    assert f"/k/{short_codes.display(code)}" in client.get(f"/q/{token}").text
