"""Webhooks, received by a real HTTP server: signed per Standard Webhooks, retried, never sent twice.

Events are written in the transaction of the change (a rollback sends nothing) and reach the receiver
through the queue (Huey in immediate mode, as the worker runs them); the signature is checked with our
own verifier and with the ``standardwebhooks`` reference package; a 500 then a 200 is delivered on the
retry with the same webhook-id; timeouts and redirects fail the attempt; the payload names no resident
unless the endpoint holds ``projects:manage``.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import standardwebhooks
from sqlalchemy import func, select, update

from surveyhub.models import WebhookDelivery, WebhookEndpoint
from surveyhub.models._types import utcnow
from surveyhub.queue import get_queue
from surveyhub.services import access, erasure, participants, projects, webhook_delivery, webhooks
from surveyhub.services.errors import Conflict
from tests.fixtures.webhook_receiver import receiver  # noqa: F401 - the fixture
from tests.fixtures.outcomes import answer


@pytest.fixture
def app_config(app_config):
    # The receivers run on this machine: the operator allows an own network (WEBHOOK_ALLOW_PRIVATE).
    return {**app_config, "WEBHOOK_RETRY_SCHEDULE": "0.1 0.1", "WEBHOOK_TIMEOUT": 1, "WEBHOOK_ALLOW_PRIVATE": 1}


@pytest.fixture
def place(app, session, make_org, make_project):
    org = make_org("Buurtwerk Noord")
    project = make_project(org, "Speeltuin De Vlinder")
    return {"org": org, "slug": project.slug, "actor": access.Actor(organisation_id=org.id, role="admin")}


def add_endpoint(session, place, receiver, events=webhooks.EVENTS, scopes=()) -> webhooks.EndpointInfo:
    info = webhooks.save_endpoint(session, place["actor"], url=receiver.url, description="CRM", events=events,
                                  scopes=scopes, allow_private=True, private_allowed=True)
    session.commit()
    return info


def deliveries(session) -> list[WebhookDelivery]:
    session.expire_all()
    found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
    session.rollback()
    return found


def until(condition, timeout: float = 30.0):
    """Wait for a condition (generous timeout, no fixed sleep)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def run_tick(app):
    """The minute tick's webhook part: put due deliveries in the queue (immediate: sent at once)."""
    with app.extensions["surveyhub.db"].session() as session:
        get_queue(app).deliver(webhook_delivery.due(session))


def check_signature(secret: str, received) -> dict:
    headers = received.headers
    stamp = int(headers["webhook-timestamp"])
    assert webhooks.verify(secret, headers["webhook-id"], stamp, received.body, headers["webhook-signature"])
    # Recomputed independently, from the spec, by the reference implementation.
    parsed = standardwebhooks.Webhook(secret).verify(received.body, {
        "webhook-id": headers["webhook-id"], "webhook-timestamp": headers["webhook-timestamp"],
        "webhook-signature": headers["webhook-signature"]})
    assert not webhooks.verify(secret, headers["webhook-id"], stamp, received.body + " ", headers["webhook-signature"])
    return parsed


def test_a_wave_opened_arrives_signed_through_the_queue(app, session, place, receiver):
    endpoint = add_endpoint(session, place, receiver)
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()  # after the commit the delivery is handed to the queue (immediate: sent now)

    [got] = receiver.wait_for(1)
    assert got.path == "/hooks/surveyhub"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == "SurveyHub-Webhooks/1"
    assert got.headers["webhook-id"].startswith("msg_")
    parsed = check_signature(endpoint.secret, got)
    assert parsed["type"] == "wave.opened"
    assert parsed["timestamp"].endswith("Z")
    assert parsed["data"] == {"project": place["slug"], "wave": "post", "by": "admin", "via": "web"}
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_status_code, row.message_id) == \
        ("delivered", 1, 200, got.headers["webhook-id"])
    assert row.payload == got.body  # the exact body signed is the body stored


def test_a_500_then_a_200_is_delivered_on_the_retry_with_the_same_id(app, session, place, receiver):
    endpoint = add_endpoint(session, place, receiver, events=["wave.opened"])
    receiver.statuses.extend([500])
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    receiver.wait_for(1)
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert json.loads(row.last_error)["msgid"] == "The receiver answered %(status)s."

    def delivered():
        run_tick(app)
        return deliveries(session)[0].status == "delivered"
    until(delivered)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    check_signature(endpoint.secret, first)
    check_signature(endpoint.secret, second)
    [row] = deliveries(session)
    assert (row.attempts, row.last_status_code, row.last_error) == (2, 200, None)


def test_after_the_last_pause_it_fails_and_an_admin_can_try_once_more(app, session, place, receiver):
    add_endpoint(session, place, receiver, events=["wave.opened"])
    receiver.statuses.extend([500, 503, 502])
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()

    def failed():
        run_tick(app)
        return deliveries(session)[0].status == "failed"
    until(failed)
    [row] = deliveries(session)
    assert (row.attempts, row.last_status_code, row.next_attempt_at) == (3, 502, None)  # 1 + 2 retries
    assert len(receiver.requests) == 3
    run_tick(app)
    assert len(receiver.requests) == 3  # a failed delivery is not picked up by the tick

    webhook_delivery.retry(session, place["actor"], row.id)
    session.commit()
    run_tick(app)
    assert deliveries(session)[0].status == "delivered"
    assert len(receiver.requests) == 4
    with pytest.raises(Conflict):
        webhook_delivery.retry(session, place["actor"], row.id)


def test_no_answer_in_time_fails_the_attempt(app, session, place, receiver):
    add_endpoint(session, place, receiver, events=["wave.opened"])
    receiver.hold = threading.Event()
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    receiver.hold.set()
    [row] = deliveries(session)
    assert row.status == "pending" and row.last_status_code is None
    assert json.loads(row.last_error) == {"msgid": "No answer within %(seconds)s seconds.", "params": {"seconds": 1}}


def test_a_redirect_is_not_followed(app, session, place, receiver):
    add_endpoint(session, place, receiver, events=["wave.opened"])
    receiver.statuses.extend([302])
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    [row] = deliveries(session)
    assert (row.status, row.last_status_code) == ("pending", 302)
    assert "redirect" in json.loads(row.last_error)["msgid"]
    assert [r.path for r in receiver.requests] == ["/hooks/surveyhub"]


def test_a_rolled_back_change_sends_nothing(app, session, place, receiver):
    add_endpoint(session, place, receiver)
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1  # in the change's transaction
    session.rollback()
    assert deliveries(session) == [] and receiver.requests == []


def test_a_task_run_twice_at_once_sends_once(app, session, place, receiver, monkeypatch):
    add_endpoint(session, place, receiver, events=["wave.opened"])
    with monkeypatch.context() as patched:  # the queue is away: the delivery waits in the table
        patched.setattr(get_queue(app), "send_webhook", lambda delivery_id: None)
        projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
        session.commit()
    [row] = deliveries(session)
    delivery_id = row.id  # read here: both threads use a session of their own
    start = threading.Barrier(2)
    results = []

    def send():
        start.wait(10)
        with app.extensions["surveyhub.db"].session() as own:
            results.append(webhook_delivery.send_one(own, delivery_id, settings=app.config))
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(result.attempted for result in results) == [False, True]
    assert len(receiver.requests) == 1
    assert deliveries(session)[0].attempts == 1


def test_only_subscribed_active_endpoints_of_the_organisation_get_an_event(app, session, place, receiver,
                                                                           make_org, make_project):
    add_endpoint(session, place, receiver, events=["wave.closed"])
    other_org = make_org("Elders")
    other = {"org": other_org, "slug": make_project(other_org, "Elders").slug,
             "actor": access.Actor(organisation_id=other_org.id, role="admin")}
    add_endpoint(session, other, receiver, events=["wave.opened"])
    off = add_endpoint(session, place, receiver, events=["wave.opened"])
    webhooks.set_active(session, place["actor"], off.id, False)
    session.commit()
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    assert deliveries(session) == [] and receiver.requests == []
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "closed")
    session.commit()
    [got] = receiver.wait_for(1)
    assert json.loads(got.body)["type"] == "wave.closed"


def test_dated_waves_say_system(app, session, place, receiver):
    from surveyhub.models import Project, Wave
    from surveyhub.services import invitations

    add_endpoint(session, place, receiver, events=["wave.opened"])
    project_id = session.scalar(select(Project.id).where(Project.slug == place["slug"]))
    session.execute(update(Wave).where(Wave.project_id == project_id, Wave.kind == "post")
                    .values(open_on=utcnow().date() - timedelta(days=1)))
    session.commit()
    invitations.apply_wave_dates(session, utcnow().date())
    session.commit()
    [got] = receiver.wait_for(1)
    assert json.loads(got.body)["data"]["by"] == "system"


def test_response_completed_names_nobody_unless_the_scope_allows(app, session, place, receiver):
    plain = add_endpoint(session, place, receiver, events=["response.completed"])
    named = add_endpoint(session, place, receiver, events=["response.completed"], scopes=["projects:manage"])
    [resident] = participants.add_participants(session, place["actor"], place["slug"],
                                               entries=[("Fatima El Amrani", "fatima@example.org")])
    session.commit()
    code = resident.code if hasattr(resident, "code") else resident
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    answer(app, session, place["slug"], "pre", code, {("organising", "org_1"): 3}, complete=True)
    got = {r.headers["webhook-id"]: r for r in receiver.wait_for(2)}
    by_endpoint = {row.endpoint_id: got[row.message_id] for row in deliveries(session)}
    for endpoint, shows_name in ((plain, False), (named, True)):
        body = check_signature(endpoint.secret, by_endpoint[endpoint.id])
        assert body["type"] == "response.completed"
        data = body["data"]
        assert (data["project"], data["wave"], data["participant"], data["entered_by"]) == \
            (place["slug"], "pre", code, "resident")
        assert data["completed_at"].endswith("Z")
        raw = by_endpoint[endpoint.id].body
        assert ("Fatima El Amrani" in raw) is shows_name
        assert "fatima@example.org" not in raw and "answers" not in raw and "scores" not in raw
    # completing again is no new event
    answer(app, session, place["slug"], "pre", code, {("organising", "org_1"): 4}, complete=True)
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2


def test_erasure_sends_the_code_and_forgets_earlier_events_about_the_resident(app, session, place, receiver):
    add_endpoint(session, place, receiver, events=["response.completed", "participant.erased"])
    [resident, other] = participants.add_participants(session, place["actor"], place["slug"],
                                                      entries=[("Fatima", None), ("Bram", None)])
    session.commit()
    codes = [getattr(r, "code", r) for r in (resident, other)]
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    for code in codes:
        answer(app, session, place["slug"], "pre", code, {("organising", "org_1"): 3})
    receiver.wait_for(2)
    erasure.erase_for_worker(session, place["actor"], place["slug"], codes[0])
    session.commit()
    got = receiver.wait_for(3)
    assert json.loads(got[-1].body) == {"type": "participant.erased", "timestamp": json.loads(got[-1].body)["timestamp"],
                                        "data": {"project": place["slug"], "participant": codes[0]}}
    kept = [(row.event_type, json.loads(row.payload)["data"]["participant"]) for row in deliveries(session)]
    assert kept == [("response.completed", codes[1]), ("participant.erased", codes[0])]


def test_retention_deletes_delivered_after_30_days_and_failed_after_90(app, session, place, receiver):
    endpoint = add_endpoint(session, place, receiver)
    now = utcnow()
    for status, age in (("delivered", 31), ("delivered", 29), ("failed", 91), ("failed", 60), ("pending", 200)):
        session.add(WebhookDelivery(endpoint_id=endpoint.id, organisation_id=place["org"].id, event_type="wave.opened",
                                    message_id=webhooks.new_message_id(), payload="{}", status=status,
                                    created_at=now - timedelta(days=age)))
    session.commit()
    assert webhook_delivery.purge(session) == 2
    assert sorted((row.status, (now - row.created_at).days) for row in deliveries(session)) == \
        [("delivered", 29), ("failed", 60), ("pending", 200)]


def test_a_lost_sending_delivery_goes_back_to_the_queue(app, session, place, receiver):
    endpoint = add_endpoint(session, place, receiver)
    session.add(WebhookDelivery(endpoint_id=endpoint.id, organisation_id=place["org"].id, event_type="wave.opened",
                                message_id="msg_lost", payload='{"type":"wave.opened"}', status="sending",
                                attempts=1, claimed_at=utcnow() - timedelta(minutes=10)))
    session.commit()
    run_tick(app)
    [got] = receiver.wait_for(1)
    assert got.headers["webhook-id"] == "msg_lost"
    assert deliveries(session)[0].status == "delivered"


def test_the_address_is_checked_again_when_sending(app, session, place, receiver):
    endpoint = add_endpoint(session, place, receiver, events=["wave.opened"])
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).values(allow_private=False))
    session.commit()
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    [row] = deliveries(session)
    assert row.status == "pending" and receiver.requests == []
    assert "https" in json.loads(row.last_error)["msgid"]  # http:// without allow_private is refused first


def test_a_new_secret_signs_beside_the_old_one_for_a_day_so_the_receiver_can_switch_over(app, session, place,
                                                                                         receiver):
    """Standard Webhooks' rotation: during the overlap each message carries a signature per secret, and a
    receiver that still has the old secret, or already the new one, accepts it (the reference package too)."""
    endpoint = add_endpoint(session, place, receiver, events=["wave.opened", "wave.closed"])
    old = endpoint.secret
    rotated = webhooks.rotate_secret(session, place["actor"], endpoint.id)
    session.commit()
    assert rotated.secret != old
    assert timedelta(hours=23) < rotated.previous_until - utcnow() <= webhooks.SECRET_OVERLAP
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    [got] = receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split()) == 2
    check_signature(old, got)
    check_signature(rotated.secret, got)

    webhooks.retire_previous_secret(session, place["actor"], endpoint.id)  # the old one leaked: stop it now
    session.commit()
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "closed")
    session.commit()
    _, got = receiver.wait_for(2)
    assert len(got.headers["webhook-signature"].split()) == 1
    check_signature(rotated.secret, got)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(got.body, {key: got.headers[key] for key in
                                                         ("webhook-id", "webhook-timestamp", "webhook-signature")})


def test_after_the_overlap_only_the_new_secret_signs():
    assert webhooks.signing_secrets("new", "old", utcnow() + timedelta(minutes=1)) == ["new", "old"]
    assert webhooks.signing_secrets("new", "old", utcnow() - timedelta(seconds=1)) == ["new"]
    assert webhooks.signing_secrets("new", None, None) == ["new"]


def test_when_the_operator_withdraws_permission_an_own_network_endpoint_gets_nothing(app, session, place, receiver):
    """An endpoint saved with "our own network" while the operator allowed it is refused at sending once the
    operator switches WEBHOOK_ALLOW_PRIVATE off: the permission is read at every attempt, not only on save."""
    add_endpoint(session, place, receiver, events=["wave.opened"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = 0
    projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
    session.commit()
    [row] = deliveries(session)
    assert row.status == "pending" and receiver.requests == []
    assert json.loads(row.last_error)["msgid"] == "Use https://."  # and no word of a tick the admin cannot set


def test_a_wave_opened_from_the_command_line_and_a_certificate_issued(app, session, place, receiver, runner,
                                                                      make_participant):
    from surveyhub.services import documents
    from tests.fixtures.outcomes import at_levels

    endpoint = add_endpoint(session, place, receiver, events=["document.issued", "wave.opened"])
    from surveyhub.cli import cli

    opened = runner.invoke(cli, ["wave", "open", place["slug"], "post"])
    assert opened.exit_code == 0, opened.output
    [got] = receiver.wait_for(1)
    assert json.loads(got.body)["data"] == {"project": place["slug"], "wave": "post", "by": "admin", "via": "cli"}

    resident = make_participant(place["org"], place["slug"], "Fatima el Amrani")
    for wave, level in (("pre", 2), ("post", 4)):
        answer(app, session, place["slug"], wave, resident.code, at_levels(session, place["slug"], {"organising": level}))
    issued = documents.issue_certificate(session, place["actor"], place["slug"], resident.code,
                                         base_url="http://surveyhub.test")
    session.commit()
    got = receiver.wait_for(2)[1]
    body = check_signature(endpoint.secret, got)
    assert body["type"] == "document.issued"
    assert body["data"] == {"code": issued.code, "kind": "certificate", "project": place["slug"],
                            "participant": resident.code}
    assert "Fatima" not in got.body


def test_when_the_queue_is_away_the_minute_tick_sends_it(app, session, place, receiver, monkeypatch):
    add_endpoint(session, place, receiver, events=["wave.opened"])

    def away(delivery_id):
        raise ConnectionError("the queue's Redis is away")
    with monkeypatch.context() as patched:
        patched.setattr(get_queue(app), "send_webhook", away)
        projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
        session.commit()  # the change is stored all the same; its message waits in the table
    [row] = deliveries(session)
    assert (row.status, row.attempts) == ("pending", 0) and receiver.requests == []
    run_tick(app)
    [got] = receiver.wait_for(1)
    assert got.headers["webhook-id"] == row.message_id
    assert deliveries(session)[0].status == "delivered"
