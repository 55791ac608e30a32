"""The admin's webhook pages and the ``surveyhub webhooks`` commands.

Adding an endpoint (refused addresses say why), the secret and rotating it, a test event received by a
real local server, the delivery log with "try again", switching off and deleting; only admins, only their
own organisation, CSRF on every form. Events fire from page and API actions (a wave opened).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from surveyhub.models import WebhookDelivery, WebhookEndpoint
from surveyhub.services import access, webhooks
from tests.fixtures.webhook_receiver import receiver  # noqa: F401 - the fixture
from tests.fixtures.factories import bearer, csrf_token


@pytest.fixture
def app_config(app_config):
    # The receivers run on this machine: the operator allows an own network (WEBHOOK_ALLOW_PRIVATE).
    return {**app_config, "WEBHOOK_RETRY_SCHEDULE": "0.1", "WEBHOOK_TIMEOUT": 2, "WEBHOOK_ALLOW_PRIVATE": 1}


@pytest.fixture
def admin_client(org_people, client_for):
    return client_for(org_people["admin"].email)


def add_form(client, **fields):
    page = client.get("/admin/webhooks")
    data = {"csrf_token": csrf_token(page.text), "url": "", "description": "", "events": ["wave.opened"]}
    data.update(fields)
    return client.post("/admin/webhooks", data=data)


def endpoint_row(session) -> WebhookEndpoint:
    session.expire_all()
    row = session.scalars(select(WebhookEndpoint)).one()
    session.rollback()
    return row


def post_action(client, endpoint_id: int, action: str):
    page = client.get(f"/admin/webhooks/{endpoint_id}")
    return client.post(f"/admin/webhooks/{endpoint_id}/{action}", data={"csrf_token": csrf_token(page.text)})


def test_without_the_operators_permission_there_is_no_own_network_tick(app, session, admin_client, receiver):
    """By default (WEBHOOK_ALLOW_PRIVATE off) an organisation's admin cannot point a webhook into the network
    SurveyHub runs in: the page offers no tick, and a forged one is refused with nothing saved."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = 0
    page = admin_client.get("/admin/webhooks")
    assert page.status_code == 200 and 'name="allow_private"' not in page.text
    answer = add_form(admin_client, url=receiver.url, allow_private="y")
    assert answer.status_code == 400
    assert "alleen naar openbare adressen" in answer.text
    answer = add_form(admin_client, url=receiver.url.replace("http://", "https://"))
    assert answer.status_code == 400 and "hieronder toestaat" not in answer.text
    assert "Deze SurveyHub stuurt alleen naar openbare adressen." in answer.text
    assert session.scalars(select(WebhookEndpoint)).all() == []


def test_an_admin_adds_a_webhook_and_sends_a_test_event(app, session, admin_client, receiver):
    answer = add_form(admin_client, url=receiver.url, description="CRM Noord", allow_private="y",
                      events=["response.completed", "wave.opened"])
    assert answer.status_code == 302
    row = endpoint_row(session)
    assert (row.url, row.events, row.scopes, row.allow_private, row.active) == \
        (receiver.url, ["response.completed", "wave.opened"], "", True, True)
    page = admin_client.get(answer.headers["Location"])
    assert row.secret in page.text and "CRM Noord" in page.text

    done = post_action(admin_client, row.id, "test")
    assert done.status_code == 302
    [got] = receiver.wait_for(1)
    body = json.loads(got.body)
    assert body["type"] == "webhook.test"
    assert webhooks.verify(row.secret, got.headers["webhook-id"], int(got.headers["webhook-timestamp"]), got.body,
                           got.headers["webhook-signature"])
    page = admin_client.get(f"/admin/webhooks/{row.id}")
    assert "Testbericht afgeleverd (antwoord 200)." in page.text
    assert "webhook.test" in page.text

    # the menu leads here
    assert "/admin/webhooks" in admin_client.get("/admin/users").text


def test_a_private_address_is_refused_unless_allowed(app, session, admin_client):
    answer = add_form(admin_client, url="https://169.254.169.254/latest/meta-data/")
    assert answer.status_code == 400
    assert "169.254.169.254" in answer.text
    answer = add_form(admin_client, url="http://93.184.215.14/hook")
    assert answer.status_code == 400 and "https://" in answer.text
    answer = add_form(admin_client, url="https://93.184.215.14/hook", events=[])
    assert answer.status_code == 400
    assert session.scalar(select(WebhookEndpoint.id)) is None


def test_rotate_switch_off_and_delete(app, session, admin_client, receiver):
    add_form(admin_client, url=receiver.url, allow_private="y")
    row = endpoint_row(session)
    before = row.secret
    post_action(admin_client, row.id, "rotate")
    assert endpoint_row(session).secret != before
    page = admin_client.get(f"/admin/webhooks/{row.id}")
    assert "Nieuw geheim gemaakt." in page.text and before not in page.text  # the old secret is never shown
    assert "draagt elk bericht ook een handtekening met het oude geheim" in page.text
    post_action(admin_client, row.id, "retire-previous")
    assert endpoint_row(session).previous_secret is None
    page = admin_client.get(f"/admin/webhooks/{row.id}")
    assert "Het oude geheim ondertekent geen berichten meer." in page.text
    assert "handtekening met het oude geheim" not in page.text
    post_action(admin_client, row.id, "off")
    assert endpoint_row(session).active is False
    post_action(admin_client, row.id, "on")
    assert endpoint_row(session).active is True
    post_action(admin_client, row.id, "delete")
    session.expire_all()
    assert session.scalar(select(WebhookEndpoint.id)) is None


def test_a_failed_delivery_can_be_tried_again_from_the_log(app, session, admin_client, receiver):
    add_form(admin_client, url=receiver.url, allow_private="y")
    row = endpoint_row(session)
    receiver.statuses.extend([500, 500])
    post_action(admin_client, row.id, "test")  # 500: waits 0.1 s
    with app.extensions["surveyhub.db"].session() as own:
        from surveyhub.services import webhook_delivery
        [delivery_id] = own.scalars(select(WebhookDelivery.id)).all()
        own.rollback()
        import time
        deadline = time.monotonic() + 30
        while webhook_delivery.send_one(own, delivery_id, settings=app.config).attempted is False:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    page = admin_client.get(f"/admin/webhooks/{row.id}")
    assert "500" in page.text
    assert re.search(rf'/deliveries/{delivery_id}/retry', page.text)
    answer = admin_client.post(f"/admin/webhooks/{row.id}/deliveries/{delivery_id}/retry",
                               data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302
    session.expire_all()
    assert session.get(WebhookDelivery, delivery_id).status == "delivered"
    assert len(receiver.requests) == 3


def test_only_admins_of_the_organisation(app, session, org_people, client_for, make_org, receiver):
    other = make_org("Elders")
    foreign = webhooks.save_endpoint(session, access.Actor(organisation_id=other.id, role="admin"),
                                     url=receiver.url, events=["wave.opened"], allow_private=True, private_allowed=True)
    session.commit()
    worker = client_for(org_people["worker"].email)
    assert worker.get("/admin/webhooks").status_code == 403
    funder = client_for(org_people["funder"].email)
    assert funder.get("/admin/webhooks").status_code == 403
    admin = client_for(org_people["admin"].email)
    assert admin.get(f"/admin/webhooks/{foreign.id}").status_code == 404
    page = admin.get("/admin/webhooks")
    assert admin.post(f"/admin/webhooks/{foreign.id}/rotate",
                      data={"csrf_token": csrf_token(page.text)}).status_code == 404
    assert foreign.secret not in page.text


def test_forms_need_the_csrf_token(app, session, admin_client, receiver):
    answer = admin_client.post("/admin/webhooks", data={"url": receiver.url, "events": ["wave.opened"],
                                                        "allow_private": "y"})
    assert answer.status_code in (400, 302)
    assert session.scalar(select(WebhookEndpoint.id)) is None
    add_form(admin_client, url=receiver.url, allow_private="y")
    row = endpoint_row(session)
    before = row.secret
    admin_client.post(f"/admin/webhooks/{row.id}/rotate", data={})
    assert endpoint_row(session).secret == before


def test_a_wave_opened_through_the_api_is_sent(app, session, org_people, make_project, make_api_token, client,
                                               receiver):
    org = org_people["org"]
    slug = make_project(org, "Speeltuin De Vlinder").slug
    webhooks.save_endpoint(session, access.Actor(organisation_id=org.id, role="admin"), url=receiver.url,
                           events=["wave.opened"], allow_private=True, private_allowed=True)
    session.commit()
    token = make_api_token(org, scopes=("projects:manage",), role="worker")
    answer = client.post(f"/api/v1/projects/{slug}/waves/post/open", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    [got] = receiver.wait_for(1)
    assert json.loads(got.body)["data"] == {"project": slug, "wave": "post", "by": "worker", "via": "api"}


def test_cli_list_and_test(app, session, runner, org_people, receiver):
    org = org_people["org"]
    info = webhooks.save_endpoint(session, access.Actor(organisation_id=org.id, role="admin"), url=receiver.url,
                                  events=["wave.opened", "wave.closed"], allow_private=True, private_allowed=True)
    session.commit()
    listed = runner.invoke(args=["webhooks", "list", "--org", org.name])
    assert listed.exit_code == 0, listed.output
    assert f"{info.id}\ton\twave.opened,wave.closed\t{receiver.url}" in listed.output
    assert info.secret not in listed.output
    sent = runner.invoke(args=["webhooks", "test", str(info.id)])
    assert sent.exit_code == 0, sent.output
    assert "delivered: the receiver answered 200" in sent.output
    assert json.loads(receiver.wait_for(1)[0].body)["type"] == "webhook.test"
    receiver.statuses.append(503)
    failed = runner.invoke(args=["webhooks", "test", str(info.id)])
    assert failed.exit_code == 1 and "The receiver answered 503." in failed.output


def test_switching_off_says_the_waiting_messages_fail_and_the_log_shows_why(app, session, admin_client, receiver):
    add_form(admin_client, url=receiver.url, allow_private="y")
    row = endpoint_row(session)
    receiver.statuses.extend([500])
    post_action(admin_client, row.id, "test")  # 500: waits for its retry
    session.expire_all()
    assert session.scalars(select(WebhookDelivery.status)).one() == "pending"
    session.rollback()
    post_action(admin_client, row.id, "off")
    page = admin_client.get(f"/admin/webhooks/{row.id}")
    assert "Berichten die nog wachtten, zijn mislukt" in page.text
    assert "De webhook staat uit." in page.text  # the failed message's reason in the log
    session.expire_all()
    assert session.scalars(select(WebhookDelivery.status)).one() == "failed"


def test_a_delivery_is_retried_only_under_its_own_endpoint(app, session, admin_client, receiver):
    add_form(admin_client, url=receiver.url, allow_private="y", description="eerste")
    add_form(admin_client, url=receiver.url, allow_private="y", description="tweede")
    session.expire_all()
    first, second = session.scalars(select(WebhookEndpoint.id).order_by(WebhookEndpoint.id)).all()
    session.rollback()
    receiver.statuses.extend([500])
    post_action(admin_client, first, "test")
    session.expire_all()
    delivery = session.scalars(select(WebhookDelivery)).one()
    delivery.status = "failed"
    session.commit()
    page = admin_client.get(f"/admin/webhooks/{second}")
    answer = admin_client.post(f"/admin/webhooks/{second}/deliveries/{delivery.id}/retry",
                               data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 404
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).status == "failed"
