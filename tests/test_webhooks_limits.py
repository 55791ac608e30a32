"""Webhook delivery at its edges: a receiver that trickles its answer, an address the HTTP client cannot
write as it stands, and an endpoint switched off with messages still waiting.

A trickling receiver keeps each socket read under the timeout, so only a deadline for the whole attempt
ends it; a worker stuck there would hold the queue (and the admin's "send test" page) for hours.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest
from sqlalchemy import select, update

from surveyhub.models import WebhookDelivery, WebhookEndpoint
from surveyhub.services import access, projects, webhook_delivery, webhooks
from surveyhub.services.errors import Conflict
from tests.fixtures import webhook_receiver


@pytest.fixture
def app_config(app_config):
    # The receivers run on this machine: the operator allows an own network (WEBHOOK_ALLOW_PRIVATE).
    return {**app_config, "WEBHOOK_RETRY_SCHEDULE": "0.1 0.1", "WEBHOOK_TIMEOUT": 1, "WEBHOOK_ALLOW_PRIVATE": 1}


@pytest.fixture
def place(app, session, make_org, make_project):
    org = make_org("Buurtwerk Noord")
    project = make_project(org, "Speeltuin De Vlinder")
    return {"org": org, "slug": project.slug, "actor": access.Actor(organisation_id=org.id, role="admin")}


@pytest.fixture
def trickler():
    """A receiver that reads the request, then sends one byte of a status line every 0.2 s (for minutes)."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                for byte in (b"HTTP/1.1 200 OK" + b"x" * 2000):
                    if stop.wait(0.2):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    stop.set()
    thread.join(10)
    listener.close()


def add(session, place, url, events=("wave.opened",)) -> webhooks.EndpointInfo:
    info = webhooks.save_endpoint(session, place["actor"], url=url, events=list(events), allow_private=True, private_allowed=True)
    session.commit()
    return info


def rows(session) -> list[WebhookDelivery]:
    session.expire_all()
    found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
    session.rollback()
    return found


def test_a_trickling_receiver_is_cut_off_at_the_deadline_of_the_attempt(app, session, place, trickler):
    endpoint = add(session, place, trickler)
    delivery_id = webhooks.queue_test_event(session, place["actor"], endpoint.id)
    session.commit()
    results = []

    def send():
        with app.extensions["surveyhub.db"].session() as own:
            results.append(webhook_delivery.send_one(own, delivery_id, settings=app.config))
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(60)  # generous: the attempt's own deadline is 1 s; without one it would run for 7 minutes
    assert not thread.is_alive(), "the attempt ran past its deadline"
    [sent] = results
    assert sent.status == "pending"
    assert json.loads(sent.error) == {"msgid": "No answer within %(seconds)s seconds.", "params": {"seconds": 1}}


def test_the_timeout_stays_below_the_time_after_which_a_sending_delivery_counts_as_lost():
    assert webhook_delivery.attempt_seconds({"WEBHOOK_TIMEOUT": 10}) == 10
    assert webhook_delivery.attempt_seconds({"WEBHOOK_TIMEOUT": 3600}) < webhook_delivery.LOST_AFTER.total_seconds()


def test_an_address_with_letters_outside_ascii_in_its_path_is_sent_percent_encoded(app, session, place):
    receiver, server = webhook_receiver.start()
    try:
        add(session, place, receiver.url + "/café?wijk=Noord Oost")
        projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
        session.commit()
        [got] = receiver.wait_for(1)
        assert got.path == "/hooks/surveyhub/caf%C3%A9?wijk=Noord%20Oost"
        assert rows(session)[0].status == "delivered"
    finally:
        webhook_receiver.stop(receiver, server)


def test_an_attempt_that_breaks_unexpectedly_is_a_failed_attempt_not_a_stuck_one(app, session, place, monkeypatch):
    endpoint = add(session, place, "http://127.0.0.1:9/hook")
    delivery_id = webhooks.queue_test_event(session, place["actor"], endpoint.id)
    session.commit()

    def broken(*args, **kwargs):
        raise ValueError("something http.client did not expect")
    monkeypatch.setattr(webhook_delivery, "post", broken)
    sent = webhook_delivery.send_one(session, delivery_id, settings=app.config)
    assert sent.status == "pending" and sent.retry_in is not None
    [row] = rows(session)
    assert row.status == "pending"  # not left "sending" to be picked up, and break again, every 5 minutes
    assert json.loads(row.last_error)["msgid"] == "The connection failed: %(error)s"


def test_switching_off_fails_the_waiting_messages_and_they_can_be_tried_again_once_on(app, session, place,
                                                                                     monkeypatch):
    receiver, server = webhook_receiver.start()
    try:
        endpoint = add(session, place, receiver.url)
        receiver.statuses.extend([500])
        projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
        session.commit()
        receiver.wait_for(1)
        session.execute(update(WebhookDelivery).values(next_attempt_at=webhook_delivery.utcnow()
                                                       + webhook_delivery.timedelta(hours=10)))
        session.commit()
        [waiting] = rows(session)
        assert waiting.status == "pending"

        webhooks.set_active(session, place["actor"], endpoint.id, False)
        session.commit()
        [row] = rows(session)
        assert (row.status, row.next_attempt_at) == ("failed", None)
        assert row.last_status_code is None  # the log says "switched off", not "500: switched off"
        assert json.loads(row.last_error)["msgid"] == "The endpoint is switched off."
        with pytest.raises(Conflict):  # switched off: trying again would only fail again
            webhook_delivery.retry(session, place["actor"], row.id)
        session.rollback()

        webhooks.set_active(session, place["actor"], endpoint.id, True)
        webhook_delivery.retry(session, place["actor"], row.id)
        session.commit()
        webhook_delivery.send_one(session, row.id, settings=app.config)
        assert rows(session)[0].status == "delivered"
        assert session.scalar(select(WebhookEndpoint.active)) is True
    finally:
        webhook_receiver.stop(receiver, server)


def test_no_proxy_from_the_environment_is_used(app, session, place, monkeypatch):
    # A proxy would look the name up again itself, past the address check; the sender never asks one.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    receiver, server = webhook_receiver.start()
    try:
        add(session, place, receiver.url)
        projects.set_wave_status(session, place["actor"], place["slug"], "post", "open")
        session.commit()
        [got] = receiver.wait_for(1)
        assert got.path == "/hooks/surveyhub"
        assert rows(session)[0].status == "delivered"
    finally:
        webhook_receiver.stop(receiver, server)


def test_the_retention_purge_deletes_the_messages_that_mention_a_resident(app, session, place, make_org,
                                                                        make_project):
    """Their code and (named endpoints) their name go with the rest of their data, sent or still waiting;
    messages without a resident, and another project's, stay."""
    from datetime import datetime, timezone

    from surveyhub.models import Project
    from surveyhub.plugins import get_registry
    from surveyhub.services import participants, retention
    from tests.fixtures.outcomes import answer

    other = make_project(place["org"], "Moestuin Oost")
    endpoint = add(session, place, "http://127.0.0.1:9/hook", events=["response.completed", "wave.opened",
                                                                       "wave.closed"])
    webhooks.save_endpoint(session, place["actor"], endpoint_id=endpoint.id, url="http://127.0.0.1:9/hook",
                           events=["response.completed", "wave.opened", "wave.closed"],
                           scopes=[webhooks.NAME_SCOPE], allow_private=True, private_allowed=True)
    session.commit()
    codes = {}
    for slug in (place["slug"], other.slug):
        [resident] = participants.add_participants(session, place["actor"], slug, entries=[("Fatima Amrani", None)])
        session.commit()
        codes[slug] = getattr(resident, "code", resident)
        answer(app, session, slug, "pre", codes[slug], {("organising", "org_1"): 3})
    # The receiver is away (port 9): every message waits for its retry.
    named = [row for row in rows(session) if "Fatima" in row.payload]
    assert {json.loads(row.payload)["data"]["project"] for row in named} == {place["slug"], other.slug}

    project = session.scalar(select(Project).where(Project.slug == place["slug"]))
    project_id = project.id
    for wave in project.waves:
        wave.status, wave.closed_at = "closed", datetime.now(timezone.utc)
    session.commit()
    far = datetime(datetime.now(timezone.utc).year + 30, 1, 1, tzinfo=timezone.utc)
    assert retention.purge_project(session, get_registry(app), project_id, now=far) is not None
    session.commit()
    left = [json.loads(row.payload)["data"] for row in rows(session)]
    assert not [data for data in left if data.get("participant") == codes[place["slug"]]]
    assert [data["participant"] for data in left if "participant" in data] == [codes[other.slug]]
    assert not any("Fatima" in row.payload for row in rows(session) if place["slug"] in row.payload)


def test_a_receiver_that_never_answers_costs_one_timeout_not_one_per_message(app, session, place, monkeypatch):
    """A bulk import makes a message per resident; with the receiver silent, the first one's timeout holds the
    others back (a failed attempt each, retried after its pause) instead of a worker waiting on every one."""
    receiver, server = webhook_receiver.start()
    receiver.hold = threading.Event()
    try:
        endpoint = add(session, place, receiver.url)
        from surveyhub.queue import get_queue
        monkeypatch.setattr(get_queue(app), "send_webhook", lambda delivery_id: None)  # sent by hand below
        ids = [webhooks.emit(session, place["org"].id, "wave.opened", {"project": place["slug"], "n": n})[0]
               for n in range(5)]
        session.commit()
        results = [webhook_delivery.send_one(session, delivery_id, settings=app.config) for delivery_id in ids]
        assert len(receiver.requests) == 1  # only the first message reached the silent receiver
        assert json.loads(results[0].error)["msgid"] == "No answer within %(seconds)s seconds."
        for sent in results[1:]:
            assert (sent.attempted, sent.status) == (True, "pending") and sent.retry_in is not None
            assert json.loads(sent.error)["msgid"] == webhook_delivery.HELD_BACK
        # a test event from the admin still connects
        test_id = webhooks.queue_test_event(session, place["actor"], endpoint.id)
        session.commit()
        webhook_delivery.send_one(session, test_id, settings=app.config)
        assert len(receiver.requests) == 2
    finally:
        webhook_receiver.stop(receiver, server)
