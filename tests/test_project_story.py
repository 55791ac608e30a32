"""The project's story: funder, period, counts, outputs with photos, chosen quotes, and the report's ``project``.

Workers record what the project did; the report JSON carries it (``project.funder``, ``period``,
``outputs`` ...) and ``quotes`` holds only the chosen quotes once the worker chose any.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import select

from surveyhub.models import Answer, AuditEvent, Consent, Participant, ProjectOutput
from surveyhub.plugins import get_registry
from surveyhub.services import access, outcomes, project_story
from surveyhub.services.errors import Invalid, NotFound
from surveyhub.services.story_photos import MAX_SIDE
from tests.fixtures.outcomes import answer


def admin(org) -> access.Actor:
    return access.Actor(organisation_id=org.id, role="admin", source="test")


def jpeg_with_gps(size=(3200, 2400)) -> bytes:
    """A camera-like JPEG: large, with EXIF holding a GPS position and a camera make."""
    image = Image.new("RGB", size, (30, 140, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 5.0, 0.0), 3: "E", 4: (5.0, 7.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def project(make_org, make_project):
    org = make_org("Buurtwerk Verhaal")
    return org, make_project(org, "Speeltuin Verhaal").slug


def report(app, session, org, slug):
    session.expire_all()  # the web requests committed in their own sessions
    return outcomes.project_report(session, get_registry(app), admin(org), slug)


def test_the_story_reaches_the_report_json(app, session, project):
    org, slug = project
    blank = report(app, session, org, slug)["project"]
    assert blank["funder"] is None and blank["period"] == {"start": None, "end": None} and blank["outputs"] == []
    project_story.update_story(session, admin(org), slug, funder_name="Gemeente Utrecht – Initiatievenfonds",
                               period_start="2026-02-01", period_end=date(2026, 10, 31), meetings_held="14",
                               volunteer_hours=320, recommendations="Ga door met de bewonersavonden.\nBetrek jongeren.",
                               primary_scale="organising/organising")
    project_story.add_output(session, admin(org), slug, "2026-05-12", "  Speeltuin   geopend ",
                             photo=jpeg_with_gps((400, 300)))
    project_story.add_output(session, admin(org), slug, date(2026, 3, 4), "Eerste bewonersavond")
    session.commit()
    info = json.loads(json.dumps(report(app, session, org, slug)))["project"]
    assert info["funder"] == "Gemeente Utrecht – Initiatievenfonds"
    assert info["period"] == {"start": "2026-02-01", "end": "2026-10-31"}
    assert [(o["date"], o["description"], o["photo"]) for o in info["outputs"]] == [
        ("2026-03-04", "Eerste bewonersavond", False), ("2026-05-12", "Speeltuin geopend", True)]
    assert info["meetings_held"] == 14 and info["volunteer_hours"] == 320
    assert info["recommendations"] == "Ga door met de bewonersavonden.\nBetrek jongeren."
    assert info["primary_scale"] == "organising/organising"
    photos = project_story.output_photos(session, admin(org), slug)
    assert list(photos) == [info["outputs"][1]["id"]] and photos[info["outputs"][1]["id"]][1] == "image/jpeg"


def test_bad_story_values_are_refused_and_nothing_is_stored(session, project):
    org, slug = project
    for fields in ({"period_start": "12-05-2026"}, {"period_start": "2026-06-01", "period_end": "2026-05-01"},
                   {"meetings_held": "veel"}, {"volunteer_hours": -3}, {"primary_scale": "organising/nope"},
                   {"funder_name": "x" * 201}, {"recommendations": "x" * 4001}):
        with pytest.raises(Invalid):
            project_story.update_story(session, admin(org), slug, **fields)
        session.rollback()
    story = project_story.story(session, admin(org), slug)
    assert all(story[name] is None for name in project_story.STORY_FIELDS)
    with pytest.raises(Invalid):
        project_story.add_output(session, admin(org), slug, "2026-05-12", "x" * 301)
    with pytest.raises(Invalid):
        project_story.add_output(session, admin(org), slug, "2026-05-12", "   ")
    with pytest.raises(Invalid):
        project_story.add_output(session, admin(org), slug, "2026-05-12", "Foto", photo=b"GIF89a....")
    session.rollback()
    assert session.scalars(select(ProjectOutput)).all() == []


def test_a_photo_loses_its_metadata_and_is_scaled_down(session, project):
    org, slug = project
    row = project_story.add_output(session, admin(org), slug, "2026-05-12", "Speeltuin geopend",
                                   photo=jpeg_with_gps())
    data, kind = project_story.output_photo(session, admin(org), slug, row["id"])
    image = Image.open(io.BytesIO(data))
    assert kind == "image/jpeg" and image.format == "JPEG"
    assert max(image.size) == MAX_SIDE and image.size == (1600, 1200)
    assert not image.getexif() and b"PhoneMaker" not in data and "exif" not in image.info


def test_a_transparent_png_is_stored_as_jpeg_and_garbage_is_refused(session, project):
    org, slug = project
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (255, 0, 0, 0)).save(out, "PNG")
    row = project_story.add_output(session, admin(org), slug, "2026-05-12", "Tekening", photo=out.getvalue())
    data, kind = project_story.output_photo(session, admin(org), slug, row["id"])
    assert kind == "image/jpeg" and Image.open(io.BytesIO(data)).getpixel((5, 5))[0] > 240  # white, not black
    with pytest.raises(Invalid, match="cannot be read"):
        project_story.add_output(session, admin(org), slug, "2026-05-12", "Kapot", photo=b"\x89PNG\r\n\x1a\nrubbish")
    with pytest.raises(Invalid, match="8 MB"):
        project_story.add_output(session, admin(org), slug, "2026-05-12", "Groot",
                                 photo=b"\xff\xd8\xff" + b"0" * (8 * 1024 * 1024))


def test_outputs_change_and_go_and_every_change_is_audited(session, project):
    org, slug = project
    row = project_story.add_output(session, admin(org), slug, "2026-05-12", "Speeltuin geopend",
                                   photo=jpeg_with_gps((200, 100)))
    changed = project_story.update_output(session, admin(org), slug, row["id"], description="Speeltuin open",
                                          remove_photo=True)
    assert changed == {"id": row["id"], "date": date(2026, 5, 12), "description": "Speeltuin open", "photo": False}
    project_story.remove_output(session, admin(org), slug, row["id"])
    session.commit()
    assert project_story.outputs(session, admin(org), slug) == []
    changes = [event.details["change"] for event in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "project.update").order_by(AuditEvent.id))]
    assert changes == ["output.add", "output.update", "output.remove"]


def test_a_funder_never_edits_and_another_organisation_sees_nothing(session, project, make_org):
    org, slug = project
    funder = access.Actor(organisation_id=org.id, role="funder", user_id=999)
    with pytest.raises(NotFound):
        project_story.update_story(session, funder, slug, funder_name="Ik")
    with pytest.raises(NotFound):
        project_story.add_output(session, funder, slug, "2026-05-12", "Iets")
    other = make_org("Buurtwerk Anders")
    with pytest.raises(NotFound):
        project_story.story(session, admin(other), slug)
    row = project_story.add_output(session, admin(org), slug, "2026-05-12", "Iets")
    with pytest.raises(NotFound):
        project_story.remove_output(session, admin(other), slug, row["id"])


# --- quotes ---------------------------------------------------------------------------------------

def _quoting(app, session, slug, texts: dict[str, str], share: dict[str, bool]):
    for code, text in texts.items():
        answer(app, session, slug, "pre", code, {("organising", "org_proud_of"): text})
        participant = session.scalar(select(Participant).where(Participant.code == code))
        session.add(Consent(participant_id=participant.id, wording_version="1", language="nl",
                            share_quotes=share.get(code, True)))
    session.commit()


def test_chosen_quotes_replace_the_list_and_no_text_appears_twice(app, session, project):
    org, slug = project
    _quoting(app, session, slug, {"P1": "Ik ken nu mijn buren.", "P2": "ik ken  nu mijn buren.",
                                  "P3": "Ik durf nu te spreken.", "P4": "Ik regelde de koffie.",
                                  "P5": "Geheim antwoord."}, {"P5": False})
    quotes = report(app, session, org, slug)["quotes"]
    assert [q["text"] for q in quotes] == ["Ik ken nu mijn buren.", "Ik durf nu te spreken.",
                                           "Ik regelde de koffie."]
    assert not any(q["chosen"] for q in quotes)
    choices = project_story.quote_choices(session, admin(org), slug)
    assert [c["text"] for c in choices] == [q["text"] for q in quotes]  # the non-sharing resident is not listed
    project_story.choose_quote(session, admin(org), slug, choices[2]["answer_id"])
    project_story.choose_quote(session, admin(org), slug, choices[1]["answer_id"])
    session.commit()
    quotes = report(app, session, org, slug)["quotes"]
    assert [(q["text"], q["chosen"]) for q in quotes] == [("Ik durf nu te spreken.", True),
                                                          ("Ik regelde de koffie.", True)]
    project_story.choose_quote(session, admin(org), slug, choices[1]["answer_id"], chosen=False)
    session.commit()
    assert [q["text"] for q in report(app, session, org, slug)["quotes"]] == ["Ik regelde de koffie."]


def test_a_quote_of_a_resident_who_does_not_share_cannot_be_chosen(app, session, project, make_org):
    org, slug = project
    _quoting(app, session, slug, {"P1": "Mooi project.", "P2": "Niet delen."}, {"P2": False})
    hidden = session.scalar(select(Answer.id).where(Answer.value_text == "Niet delen."))
    with pytest.raises(Invalid, match="did not agree"):
        project_story.choose_quote(session, admin(org), slug, hidden)
    with pytest.raises(NotFound):
        project_story.choose_quote(session, admin(make_org("Buurtwerk Elders")), slug, hidden)
    # A chosen answer whose resident later withdraws sharing is left out of the report.
    shown = session.scalar(select(Answer.id).where(Answer.value_text == "Mooi project."))
    project_story.choose_quote(session, admin(org), slug, shown)
    participant = session.scalar(select(Participant).where(Participant.code == "P1"))
    session.add(Consent(participant_id=participant.id, wording_version="2", language="nl", share_quotes=False))
    session.commit()
    assert report(app, session, org, slug)["quotes"] == []


# --- the page "Verhaal voor het rapport" -----------------------------------------------------------

import os  # noqa: E402

from werkzeug.datastructures import FileStorage, MultiDict  # noqa: E402
from werkzeug.test import encode_multipart  # noqa: E402

from tests.fixtures.factories import csrf_token  # noqa: E402


def post_multipart(client, url: str, fields: dict, photo: tuple[bytes, str] | None = None):
    """A multipart POST built in memory (the test client spools large bodies to a file it never closes)."""
    values = MultiDict(fields)
    if photo is not None:
        values.add("photo", FileStorage(io.BytesIO(photo[0]), filename=photo[1]))
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def worker_page(app, session, project, make_user, client_for):
    org, slug = project
    worker = make_user("worker", org)
    client = client_for(worker.email)
    return client, org, slug


def test_the_project_page_links_to_the_story_page_in_dutch(worker_page):
    client, _org, slug = worker_page
    assert f'href="/projects/{slug}/story"' in client.get(f"/projects/{slug}").text
    page = client.get(f"/projects/{slug}/story")
    assert page.status_code == 200
    assert "Verhaal voor het rapport" in page.text and 'type="date"' in page.text
    assert 'enctype="multipart/form-data"' in page.text


def test_a_story_form_with_an_error_keeps_what_the_worker_typed(app, session, worker_page):
    client, org, slug = worker_page
    token = csrf_token(client.get(f"/projects/{slug}/story").text)
    form = {"csrf_token": token, "funder_name": "Fonds Buurtkracht", "period_start": "2026-06-01",
            "period_end": "2026-05-01", "meetings_held": "12", "volunteer_hours": "", "primary_scale": "",
            "recommendations": "Meer avonden."}
    refused = client.post(f"/projects/{slug}/story", data=form)
    assert refused.status_code == 400
    assert "Het project kan niet eindigen voordat het begint" in refused.text
    assert 'value="Fonds Buurtkracht"' in refused.text and "Meer avonden." in refused.text
    assert report(app, session, org, slug)["project"]["funder"] is None
    saved = client.post(f"/projects/{slug}/story", data={**form, "period_end": "2026-12-31"})
    assert saved.status_code == 302
    info = report(app, session, org, slug)["project"]
    assert info["funder"] == "Fonds Buurtkracht" and info["period"]["end"] == "2026-12-31"
    assert info["meetings_held"] == 12 and info["volunteer_hours"] is None and info["primary_scale"] is None


def noisy_jpeg(side=1400) -> bytes:
    """A JPEG of several MB (noise does not compress): larger than the installation's 2 MB upload limit."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "JPEG", quality=98)
    return out.getvalue()


def test_an_output_with_a_large_photo_is_added_and_shown_only_to_the_project_team(
        app, session, worker_page, make_user, client_for):
    client, org, slug = worker_page
    photo = noisy_jpeg()
    assert app.config["MAX_CONTENT_LENGTH"] < len(photo) < 8 * 1024 * 1024
    token = csrf_token(client.get(f"/projects/{slug}/story").text)
    added = post_multipart(client, f"/projects/{slug}/story/outputs",
                           {"csrf_token": token, "happened_on": "2026-05-12", "description": "Speeltuin geopend"},
                           (photo, "speeltuin.jpg"))
    assert added.status_code == 302, added.text
    [output] = report(app, session, org, slug)["project"]["outputs"]
    assert output["photo"] is True
    shown = client.get(f"/projects/{slug}/story/photo?output={output['id']}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and len(shown.data) < len(photo)
    assert f"/story/photo?output={output['id']}" in client.get(f"/projects/{slug}/story").text
    funder = make_user("funder", org)
    assert client_for(funder.email).get(f"/projects/{slug}/story/photo?output={output['id']}").status_code == 404
    removed = client.post(f"/projects/{slug}/story/outputs/remove", data={"csrf_token": token,
                                                                          "output_id": output["id"]})
    assert removed.status_code == 302 and report(app, session, org, slug)["project"]["outputs"] == []


def test_the_output_form_checks_its_own_token_and_refuses_a_bad_photo_in_dutch(app, session, worker_page):
    client, org, slug = worker_page
    without = post_multipart(client, f"/projects/{slug}/story/outputs",
                             {"happened_on": "2026-05-12", "description": "Zonder token"})
    assert without.status_code == 400
    token = csrf_token(client.get(f"/projects/{slug}/story").text)
    bad = post_multipart(client, f"/projects/{slug}/story/outputs",
                         {"csrf_token": token, "happened_on": "2026-05-12", "description": "Tekening"},
                         (b"GIF89a tekening", "tekening.gif"))
    assert bad.status_code == 400 and "Alleen foto&#39;s in JPEG of PNG" in bad.text
    assert 'value="Tekening"' in bad.text  # what the worker typed stays
    too_large = post_multipart(client, f"/projects/{slug}/story/outputs",
                               {"csrf_token": token, "happened_on": "2026-05-12", "description": "Groot"},
                               (b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024), "groot.jpg"))
    assert too_large.status_code == 413 and "groter dan 8 MB" in too_large.text
    assert report(app, session, org, slug)["project"]["outputs"] == []


def test_the_worker_picks_quotes_on_the_page(app, session, worker_page):
    client, org, slug = worker_page
    _quoting(app, session, slug, {"P1": "Ik ken nu mijn buren.", "P2": "Ik durf nu te spreken."}, {})
    page = client.get(f"/projects/{slug}/story")
    assert "Ik ken nu mijn buren." in page.text and "Gebruik in rapport" in page.text
    answer_id = session.scalar(select(Answer.id).where(Answer.value_text == "Ik durf nu te spreken."))
    client.post(f"/projects/{slug}/story/quotes", data={"csrf_token": csrf_token(page.text),
                                                        "answer_id": answer_id, "chosen": "1"})
    assert [q["text"] for q in report(app, session, org, slug)["quotes"]] == ["Ik durf nu te spreken."]
    assert "Niet gebruiken in rapport" in client.get(f"/projects/{slug}/story").text


# --- certificate facts: the worker's name and job title, the organisation's contact, the resident's role ----

from surveyhub.models import Organisation, User  # noqa: E402
from surveyhub.services import story_facts  # noqa: E402


def test_certificate_facts_come_from_the_three_pages(app, session, project, make_user, make_participant,
                                                     client_for):
    org, slug = project
    worker = make_user("worker", org)
    admin_user = make_user("admin", org)
    invitation = make_participant(org, slug, "Fatima")
    worker_client, admin_client = client_for(worker.email), client_for(admin_user.email)

    page = worker_client.get("/account/profile")
    assert page.status_code == 200 and "Je naam en functie" in page.text
    assert worker_client.post("/account/profile", data={"csrf_token": csrf_token(page.text), "name": " Sanne  de Vries",
                                                        "job_title": "Opbouwwerker"}).status_code == 302
    participant_page = worker_client.get(f"/projects/{slug}/participants/{invitation.code}")
    assert "Wat deed deze bewoner?" in participant_page.text
    worker_client.post(f"/projects/{slug}/participants/{invitation.code}/role",
                       data={"csrf_token": csrf_token(participant_page.text), "role": "organiseerde de opening"})
    logo_page = admin_client.get("/admin/logo")
    assert "Contactregel op certificaten" in logo_page.text
    admin_client.post("/admin/certificate-settings", data={"csrf_token": csrf_token(logo_page.text),
                                                           "contact": "Buurtwerk Verhaal · 030 123 45 67",
                                                           "orientation": "portrait"})
    assert worker_client.post("/admin/certificate-settings", data={
        "csrf_token": csrf_token(participant_page.text), "contact": "x", "orientation": "landscape"}).status_code == 403
    project_story.add_output(session, admin(org), slug, "2026-05-12", "Speeltuin geopend")
    session.commit()
    session.expire_all()
    participant = session.scalar(select(Participant).where(Participant.code == invitation.code))
    facts = story_facts.certificate_facts(session, participant.project_id, participant.id, worker.id)
    assert facts == {"worker_name": "Sanne de Vries", "job_title": "Opbouwwerker",
                     "organisation_contact": "Buurtwerk Verhaal · 030 123 45 67", "orientation": "portrait",
                     "resident_role": "organiseerde de opening",
                     "outputs": [{"date": "2026-05-12", "description": "Speeltuin geopend"}]}
    # A user of another organisation never signs this organisation's certificates.
    stranger = make_user("worker")
    assert story_facts.certificate_facts(session, participant.project_id, participant.id,
                                         stranger.id)["worker_name"] is None
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.profile", "organisation.settings", "project.update"} <= actions


def test_facts_that_are_too_long_are_refused_and_a_funder_cannot_set_a_role(session, project, make_participant,
                                                                          make_user):
    org, slug = project
    invitation = make_participant(org, slug, "Fatima")
    with pytest.raises(Invalid):
        story_facts.set_resident_role(session, admin(org), slug, invitation.code, "x" * 201)
    with pytest.raises(NotFound):
        story_facts.set_resident_role(session, access.Actor(org.id, "funder", user_id=5), slug, invitation.code, "x")
    with pytest.raises(Invalid):
        story_facts.set_organisation_facts(session, admin(org), "Buurtwerk", "sideways")
    user = make_user("worker", org)
    with pytest.raises(Invalid):
        story_facts.set_profile(session, user.id, "x" * 201, None)
    session.rollback()
    assert session.get(User, user.id).name is None and session.get(Organisation, org.id).contact is None


def test_the_same_output_twice_is_one_output_with_the_newest_photo(session, project):
    org, slug = project
    first = project_story.add_output(session, admin(org), slug, "2026-05-12", "Speeltuin geopend")
    again = project_story.add_output(session, admin(org), slug, date(2026, 5, 12), " Speeltuin geopend",
                                     photo=jpeg_with_gps((300, 200)))
    assert again == {**first, "photo": True}
    assert len(project_story.outputs(session, admin(org), slug)) == 1


# --- the command line -----------------------------------------------------------------------------

def test_the_story_from_the_command_line(app, session, runner, project, tmp_path):
    org, slug = project
    recommendations = tmp_path / "advies.txt"
    recommendations.write_text("Ga door met de bewonersavonden.\nBetrek de school.\n", encoding="utf-8")
    done = runner.invoke(args=["story", "set", slug, "--funder", "Fonds Buurtkracht", "--start", "2026-02-01",
                               "--end", "2026-10-31", "--meetings", "14", "--volunteer-hours", "320",
                               "--primary", "organising/organising", "--recommendations-file", str(recommendations)])
    assert done.exit_code == 0, done.output
    photo = tmp_path / "opening.jpg"
    photo.write_bytes(jpeg_with_gps((500, 400)))
    added = runner.invoke(args=["outputs", "add", slug, "--date", "2026-05-12", "--description", "Speeltuin geopend",
                                "--photo", str(photo)])
    assert added.exit_code == 0, added.output
    output_id = int(added.stdout.strip())
    listed = runner.invoke(args=["outputs", "list", slug])
    assert listed.stdout.split() == [str(output_id), "2026-05-12", "Speeltuin", "geopend", "[photo]"]
    shown = runner.invoke(args=["story", "show", slug]).stdout
    assert "Fonds Buurtkracht" in shown and "Betrek de school." in shown and "organising/organising" in shown
    info = report(app, session, org, slug)["project"]
    assert (info["funder"], info["meetings_held"], info["volunteer_hours"]) == ("Fonds Buurtkracht", 14, 320)
    assert info["recommendations"] == "Ga door met de bewonersavonden.\nBetrek de school."
    removed = runner.invoke(args=["outputs", "remove", str(output_id)])
    assert removed.exit_code == 0 and report(app, session, org, slug)["project"]["outputs"] == []


@pytest.mark.parametrize("args, message", [
    (["story", "set", "{slug}", "--start", "12-05-2026", "--funder", "Nieuw"], "is not a date"),
    (["story", "set", "{slug}", "--meetings", "veel", "--funder", "Nieuw"], "is not a whole number"),
    (["story", "set", "{slug}", "--start", "2026-06-01", "--end", "2026-05-01"], "cannot end before it starts"),
    (["story", "set", "{slug}", "--primary", "organising/nope"], "is not a scale"),
    (["outputs", "add", "{slug}", "--date", "2026-05-12", "--description", "x" * 301], "at most 300"),
    (["outputs", "add", "{slug}", "--date", "gisteren", "--description", "Feest"], "is not a date"),
    (["outputs", "remove", "999"], "no output 999"),
    (["story", "show", "geen-project"], "no project"),
])
def test_bad_input_on_the_command_line_stores_nothing(app, session, runner, project, args, message):
    org, slug = project
    result = runner.invoke(args=[arg.format(slug=slug) for arg in args])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    info = report(app, session, org, slug)["project"]
    assert info["funder"] is None and info["period"] == {"start": None, "end": None} and info["outputs"] == []


def test_a_main_skill_the_questionnaire_no_longer_asks_is_not_reported(app, session, project):
    from surveyhub.models import Project

    org, slug = project
    project_story.update_story(session, admin(org), slug, primary_scale="organising/organising")
    session.scalar(select(Project).where(Project.slug == slug)).primary_scale = "conversation/conversation"
    session.commit()  # as if the instruments changed after the main skill was named
    assert report(app, session, org, slug)["project"]["primary_scale"] is None


def test_a_phone_photo_taken_upright_is_stored_upright():
    from surveyhub.services.story_photos import prepare_photo

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; viewers rotate 90° clockwise
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (200, 60, 40)).save(out, "JPEG", exif=exif)
    data, kind = prepare_photo(out.getvalue())
    stored = Image.open(io.BytesIO(data))
    assert kind == "image/jpeg" and stored.size == (1067, 1600) and not stored.getexif()


def test_a_worker_corrects_an_output_and_an_error_keeps_what_they_typed(app, session, worker_page):
    client, org, slug = worker_page
    row = project_story.add_output(session, admin(org), slug, "2026-05-21", "Speeltuin geopnd",
                                   photo=jpeg_with_gps((300, 200)))
    session.commit()
    page = client.get(f"/projects/{slug}/story")
    assert f'name="o{row["id"]}-description"' in page.text and "Wijzigen" in page.text
    token = csrf_token(page.text)
    url = f"/projects/{slug}/story/outputs/edit?output={row['id']}"
    prefix = f"o{row['id']}-"
    refused = post_multipart(client, url, {f"{prefix}csrf_token": token, f"{prefix}happened_on": "2026-05-12",
                                           f"{prefix}description": "x" * 301})
    assert refused.status_code == 400 and "x" * 301 in refused.text and "<details class=\"edit-output\" open>" \
        in refused.text
    without_token = post_multipart(client, url, {f"{prefix}happened_on": "2026-05-12",
                                                 f"{prefix}description": "Zonder token"})
    assert without_token.status_code == 400
    saved = post_multipart(client, url, {f"{prefix}csrf_token": token, f"{prefix}happened_on": "2026-05-12",
                                         f"{prefix}description": "Speeltuin geopend", f"{prefix}remove_photo": "y"})
    assert saved.status_code == 302
    assert report(app, session, org, slug)["project"]["outputs"] == [
        {"id": row["id"], "date": "2026-05-12", "description": "Speeltuin geopend", "photo": False}]
    gone = post_multipart(client, f"/projects/{slug}/story/outputs/edit?output=99999",
                          {"o99999-csrf_token": token})
    assert gone.status_code == 302


def test_the_retention_purge_takes_the_photos_and_keeps_the_lines(app, session, project):
    from datetime import timedelta

    from surveyhub.models import Project
    from surveyhub.models._types import utcnow
    from surveyhub.services import retention

    org, slug = project
    project_story.add_output(session, admin(org), slug, "2026-05-12", "Speeltuin geopend",
                             photo=jpeg_with_gps((300, 200)))
    row = session.scalar(select(Project).where(Project.slug == slug))
    for wave in row.waves:  # every wave closed 25 months ago: past the default 24 months
        wave.status, wave.closed_at = "closed", utcnow() - timedelta(days=25 * 31)
    session.commit()
    assert retention.purge_project(session, get_registry(app), row.id) is not None
    session.commit()
    session.expire_all()
    [output] = session.scalars(select(ProjectOutput).where(ProjectOutput.project_id == row.id)).all()
    assert output.description == "Speeltuin geopend" and output.photo is None and output.photo_type is None
    [kept] = session.scalar(select(Project.purged_summary).where(Project.id == row.id))["project"]["outputs"]
    assert kept["description"] == "Speeltuin geopend" and kept["photo"] is False


def test_a_residents_own_data_includes_what_the_worker_wrote_they_did(session, project, make_participant):
    from surveyhub.services import resident_data

    org, slug = project
    invitation = make_participant(org, slug, "Fatima")
    story_facts.set_resident_role(session, admin(org), slug, invitation.code, "organiseerde de opening")
    session.commit()
    participant = session.scalar(select(Participant).where(Participant.code == invitation.code))
    data = resident_data.personal_data(session, participant.id)
    assert data["participant"]["role"] == "organiseerde de opening"
