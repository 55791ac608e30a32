"""``surveyhub badges`` and ``surveyhub verify FILE.jwt`` (issue 15): issue, write, list, revoke, check."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from sqlalchemy import select

from surveyhub.models import BadgeCredential
from tests.test_badges import GrowthInstrument, project_with


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EXTRA_PLUGINS": {"badge_growth": GrowthInstrument()}}


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


def test_badges_writes_lists_revokes_and_verify_checks(app, session, runner, org, tmp_path):
    slug = project_with(app, session, org, "either", {"R-GROEI": (20, 31), "R-GELYK": (20, 22)})
    out = tmp_path / "badges"
    result = runner.invoke(args=["badges", slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["R-GROEI-growth-together-level.jwt",
                                                     "R-GROEI-growth-together.jwt"]
    assert "2 badges" in result.output and "(2 new)" in result.output
    again = runner.invoke(args=["badges", slug, "-o", str(out)])
    assert again.exit_code == 0 and "(0 new)" in again.output
    assert len(list(session.scalars(select(BadgeCredential)))) == 2

    badge_file = out / "R-GROEI-growth-together.jwt"
    assert pyjwt.get_unverified_header(badge_file.read_text())["alg"] == "EdDSA"
    checked = runner.invoke(args=["verify", str(badge_file)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("valid: Gegroeid in samenwerken (issued by Buurtwerk Noord")

    listed = runner.invoke(args=["badges", slug, "--list"])
    assert listed.exit_code == 0
    lines = [line.split("\t") for line in listed.output.splitlines()]
    assert sorted((line[1], line[3], line[5]) for line in lines) == [
        ("R-GROEI", "improvement", "valid"), ("R-GROEI", "level/strong", "valid")]
    public_id = next(line[0] for line in lines if line[3] == "improvement")
    revoked = runner.invoke(args=["badges", "revoke", public_id, "--reason", "Verkeerd ingevoerd"])
    assert revoked.exit_code == 0, revoked.output
    checked = runner.invoke(args=["verify", str(badge_file)])
    assert checked.exit_code == 4
    assert checked.output.startswith("revoked: ") and "Verkeerd ingevoerd" in checked.output
    assert len(runner.invoke(args=["badges", slug, "--list"]).output.splitlines()) == 1
    assert len(runner.invoke(args=["badges", slug, "--list", "--all"]).output.splitlines()) == 2


def test_verify_tells_an_altered_or_foreign_badge(app, session, runner, org, tmp_path):
    slug = project_with(app, session, org, "level", {"R-STERK": (31, 35)})
    out = tmp_path / "b"
    assert runner.invoke(args=["badges", slug, "-o", str(out)]).exit_code == 0
    [badge_file] = out.iterdir()
    head, body, signature = badge_file.read_text().split(".")
    altered = tmp_path / "altered.jwt"
    claims = json.loads(pyjwt.utils.base64url_decode(body))
    claims["credentialSubject"]["narrative"] = "De score op Samenwerken was 40,0."
    altered.write_text(".".join([head, pyjwt.utils.base64url_encode(json.dumps(claims).encode()).decode(),
                                 signature]))
    result = runner.invoke(args=["verify", str(altered)])
    assert result.exit_code == 3 and result.output.startswith("altered: ")
    garbage = tmp_path / "garbage.jwt"
    garbage.write_text("eyJhbGciOiJub25lIn0.eyJ9.x")
    assert runner.invoke(args=["verify", str(garbage)]).exit_code == 5


def test_badges_needs_a_folder_or_list_and_a_known_project(runner, org):
    assert runner.invoke(args=["badges", "no-such-project", "--list"]).exit_code == 1
    assert runner.invoke(args=["badges", "revoke", "no-such-id", "--reason", "x"]).exit_code == 1


def test_badges_rule_sets_what_the_project_issues_for(app, session, runner, org):
    from surveyhub.models import Project

    slug = project_with(app, session, org, "off", {"R-GOED": (10, 25)})
    result = runner.invoke(args=["badges", "rule", slug, "level", "--level", "doing-well"])
    assert result.exit_code == 0, result.output
    assert "levels: getting-started, doing-well, strong" in result.output
    project = session.scalar(select(Project).where(Project.slug == slug))
    session.refresh(project)
    assert (project.badge_rule, project.badge_level) == ("level", "doing-well")
    assert runner.invoke(args=["badges", "rule", slug, "level", "--level", "heroic"]).exit_code == 1
    listed = runner.invoke(args=["badges", slug, "--list"])
    assert listed.output == ""  # setting the rule issues nothing by itself


def test_a_new_signing_key_leaves_earlier_badges_valid(app, session, runner, org, client, tmp_path):
    slug = project_with(app, session, org, "either", {"R-GROEI": (20, 31)})
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["badges", slug, "-o", str(first)]).exit_code == 0
    rotated = runner.invoke(args=["badges", "rotate-key", "--org", "Buurtwerk Noord"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.output.split()[4].rstrip(";")
    keys = [k["kid"] for k in client.get("/ob/issuers/buurtwerk-noord/jwks.json").get_json()["keys"]]
    assert len(keys) == 2 and keys[1] == new_kid
    slug2 = project_with(app, session, org, "level", {"R-NIEUW": (31, 35)})
    assert runner.invoke(args=["badges", slug2, "-o", str(second)]).exit_code == 0
    [new_badge] = second.iterdir()
    assert pyjwt.get_unverified_header(new_badge.read_text())["kid"].endswith("/" + new_kid)
    for badge in [*first.iterdir(), new_badge]:
        assert runner.invoke(args=["verify", str(badge)]).exit_code == 0


def test_baked_svg_badges_verify_like_the_file_and_escape_their_words(app, session, runner, org, tmp_path):
    from surveyhub.services import badge_image

    slug = project_with(app, session, org, "level", {"R-STERK": (31, 35)})
    out = tmp_path / "svg"
    result = runner.invoke(args=["badges", slug, "-o", str(out), "--svg"])
    assert result.exit_code == 0, result.output
    svg_file = out / "R-STERK-growth-together-level.svg"
    jwt_file = out / "R-STERK-growth-together-level.jwt"
    image = svg_file.read_text()
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in image
    assert badge_image.baked_jwt(image.encode()) == jwt_file.read_text()
    checked = runner.invoke(args=["verify", str(svg_file)])
    assert checked.exit_code == 0 and checked.output.startswith("valid: Samenwerken: Sterk")
    import xml.dom.minidom

    xml.dom.minidom.parseString(image)  # well-formed
    hostile = badge_image.svg("a.b.c", '<script>alert(1)</script>" onload="x', '"><svg onload=y>',
                              'Buurt & <Co> "quoted"', colour="red;fill:url(x)")
    parsed = xml.dom.minidom.parseString(hostile)
    elements = parsed.getElementsByTagName("*")
    assert {e.tagName for e in elements} == {"svg", "openbadges:credential", "circle", "g", "text"}
    assert not [name for e in elements for name in e.attributes.keys() if name.startswith("on")]
    assert parsed.documentElement.getAttribute("aria-label").endswith('Buurt & <Co> "quoted"')
    assert "url(" not in hostile


def test_two_codes_that_make_one_file_name_give_two_files(app, session, runner, org, tmp_path):
    """Codes come from imports too: 'K.001', 'K/001' and 'k-001' all make 'K-001-…' on a (case-blind) disk, and
    one file silently replaced the other. Each badge keeps its own file; the first keeps the plain name."""
    slug = project_with(app, session, org, "level", {"K.001": (None, 35), "K/001": (None, 35), "k-001": (None, 35)})
    out = tmp_path / "badges"
    result = runner.invoke(args=["badges", slug, "-o", str(out), "--svg"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 6 and len({name.casefold() for name in names}) == 6
    assert "K-001-growth-together-level.jwt" in names and "3 badges" in result.output
    written = {pyjwt.decode(p.read_text(), options={"verify_signature": False})["id"]
               for p in out.glob("*.jwt")}
    assert len(written) == 3


def test_a_baked_badge_is_well_formed_xml_whatever_its_words_hold():
    """Skill and organisation names come from instrument files and admins: a control character (a \\v in a YAML
    string) made the SVG no XML at all, so no browser drew it. Such characters are left out; the rest escaped."""
    from xml.etree import ElementTree

    from surveyhub.services import badge_image

    drawn = badge_image.svg("a.b.c", "Samen\x0bwerken <b>&", "Sterk\x01", "Buurt\x1fwerk \"Noord\"")
    root = ElementTree.fromstring(drawn)
    text = " ".join(root.itertext()) + root.attrib["aria-label"]
    assert "Samenwerken <b>&" in text and "Buurtwerk \"Noord\"" in text and "\x0b" not in drawn
    assert badge_image.baked_jwt(drawn.encode()) == "a.b.c"
