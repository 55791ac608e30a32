"""The job table: every item done exactly once, whatever the queue does (duplicates, retries, killed workers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from surveyhub import queue as queue_module
from surveyhub.config import ConfigError
from surveyhub.models import Job, JobFile, JobItem, User
from surveyhub.models._types import utcnow
from surveyhub.queue import get_queue, make_huey
from surveyhub.services import access, job_views, jobs
from surveyhub.services.errors import Invalid, NotFound
from surveyhub.services.job_kinds import ItemDone, Kind, ResultFile


@pytest.fixture
def counted(monkeypatch):
    """A kind of job that counts how often each item really ran, and joins the outputs into its result."""
    runs: dict[str, int] = {}
    fail_first: set[str] = set()

    def run_item(run, key):
        runs[key] = runs.get(key, 0) + 1
        if key.startswith("bad"):
            raise Invalid("Resident %(code)s has not finished a questionnaire.", code=key)
        if key in fail_first and runs[key] == 1:
            raise RuntimeError("the disk was full for a moment")
        return ItemDone(result={"key": key}, output=key.encode())

    def finish(run):
        parts = [output for _key, _result, output in jobs.outputs(run.ctx.session, run.job_id)]
        return ResultFile(name="joined.txt", mime="text/plain", chunks=iter([b"|".join(parts)]))

    monkeypatch.setitem(queue_module.KINDS, "test.counted", Kind("test.counted", "project.rows", run_item, finish))
    return runs, fail_first


def start(app, session, actor, keys, kind="test.counted"):
    job, item_ids = jobs.create(session, kind=kind, keys=keys, params={}, title="Test", actor=actor)
    session.commit()
    get_queue(app).enqueue(item_ids)
    session.expire_all()
    return job.public_id, item_ids


def actor_of(user):
    return access.Actor(organisation_id=user.organisation_id, role=user.role, user_id=user.id, email=user.email)


def test_a_job_runs_every_item_once_and_assembles_its_result(app, session, org_people, counted):
    runs, _ = counted
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["a", "b", "c"])
    view = job_views.view(session, worker, public_id)
    assert (view.status, view.done, view.failed, view.total, view.percent) == ("done", 3, 0, 3, 100)
    assert runs == {"a": 1, "b": 1, "c": 1}
    found, chunks = job_views.result_chunks(session, worker, public_id)
    assert b"".join(chunks) == b"a|b|c" and found.result_name == "joined.txt" and found.ready
    # the items' bytes are cleared once the result holds them
    assert session.scalars(select(JobItem.output)).all() == [None, None, None]


def test_a_duplicated_task_does_nothing_twice(app, session, org_people, counted):
    runs, _ = counted
    worker = actor_of(org_people["worker"])
    public_id, item_ids = start(app, session, worker, ["a", "b"])
    get_queue(app).enqueue(item_ids)  # the same tasks delivered again
    assert runs == {"a": 1, "b": 1}
    assert job_views.view(session, worker, public_id).done == 2
    assert session.scalar(select(JobFile.id).where(JobFile.position == 1)) is None  # one result, written once


def test_a_failing_item_is_tried_again_and_then_succeeds(app, session, org_people, counted):
    runs, fail_first = counted
    fail_first.add("b")
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["a", "b"])
    assert runs["b"] == 2
    assert job_views.view(session, worker, public_id).status == "done"


def test_a_user_error_fails_the_item_with_its_reason_and_the_rest_goes_on(app, session, org_people, counted):
    runs, _ = counted
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["a", "bad-R1"])
    view = job_views.view(session, worker, public_id)
    assert (view.status, view.done, view.failed) == ("done", 1, 1)
    assert runs["bad-R1"] == 1  # a user error is not tried again
    assert [job_views.problem_text(p) for p in view.problems] == ["Resident bad-R1 has not finished a questionnaire."]


def test_a_job_where_every_item_fails_has_failed(app, session, org_people, counted):
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["bad-1", "bad-2"])
    view = job_views.view(session, worker, public_id)
    assert view.status == "failed" and view.failed == 2 and not view.ready


def test_an_item_of_a_killed_worker_is_found_stale_and_done_once_by_another(app, session, org_people, counted):
    runs, _ = counted
    worker = actor_of(org_people["worker"])
    job, item_ids = jobs.create(session, kind="test.counted", keys=["a", "b"], params={}, title="T", actor=worker)
    session.commit()
    # A worker claimed "a" and was killed (SIGKILL): the claim stays, nothing records it done.
    claim = jobs.claim(session, item_ids[0], "dead-host:1", stale_seconds=120)
    assert claim is not None and jobs.claim(session, item_ids[0], "other:2", stale_seconds=120) is None
    long_ago = utcnow() - timedelta(minutes=10)
    session.execute(update(JobItem).where(JobItem.id == item_ids[0]).values(claimed_at=long_ago))
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=long_ago))
    session.commit()
    [found] = jobs.stale(session, stale_seconds=120)
    assert found.job_id == job.id and set(found.item_ids) == set(item_ids)
    queue_module._tick(get_queue(app))  # the periodic task enqueues them again
    session.expire_all()
    view = job_views.view(session, worker, job.public_id)
    assert (view.status, view.done) == ("done", 2) and runs == {"a": 1, "b": 1}
    assert jobs.stale(session, stale_seconds=120) == []


def test_a_fresh_claim_is_not_taken_over(app, session, org_people, counted):
    worker = actor_of(org_people["worker"])
    job, item_ids = jobs.create(session, kind="test.counted", keys=["a"], params={}, title="T", actor=worker)
    session.commit()
    assert jobs.claim(session, item_ids[0], "w1", stale_seconds=120) is not None
    assert jobs.stale(session, stale_seconds=120) == []
    assert jobs.claim(session, item_ids[0], "w2", stale_seconds=120) is None


def test_only_one_worker_assembles_the_result(app, session, org_people, counted):
    worker = actor_of(org_people["worker"])
    job, item_ids = jobs.create(session, kind="test.counted", keys=["a"], params={}, title="T", actor=worker)
    session.commit()
    claim = jobs.claim(session, item_ids[0], "w1", stale_seconds=120)
    jobs.finish_item(session, claim)
    assert jobs.claim_finish(session, job.id, stale_seconds=120) is True
    assert jobs.claim_finish(session, job.id, stale_seconds=120) is False


def test_jobs_are_seen_by_their_starter_and_the_admins_of_their_organisation_only(app, session, org_people, make_org,
                                                                                     make_user, counted):
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["a"])
    assert job_views.view(session, actor_of(org_people["admin"]), public_id).status == "done"
    other_worker = actor_of(make_user("worker", org_people["org"]))
    other_admin = actor_of(make_user("admin", make_org("Elders")))
    for actor in (other_worker, other_admin, actor_of(org_people["funder"])):
        with pytest.raises(NotFound):
            job_views.view(session, actor, public_id)
        with pytest.raises(NotFound):
            job_views.result_chunks(session, actor, public_id)
    assert [v.public_id for v in job_views.recent(session, worker)] == [public_id]
    assert job_views.recent(session, other_worker) == []


def test_the_ready_notice_shows_until_the_starter_opens_the_job(app, session, org_people, counted):
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["a"])
    assert [v.public_id for v in job_views.unseen_ready(session, worker)] == [public_id]
    job_views.mark_seen(session, actor_of(org_people["admin"]), public_id)  # an admin looking does not count
    assert job_views.unseen_ready(session, worker)
    job_views.mark_seen(session, worker, public_id)
    session.commit()
    assert job_views.unseen_ready(session, worker) == []


def test_a_removed_user_s_job_stops_with_a_reason(app, session, org_people, counted):
    runs, _ = counted
    user = org_people["worker"]
    worker = actor_of(user)
    job, item_ids = jobs.create(session, kind="test.counted", keys=["a"], params={}, title="T", actor=worker)
    session.execute(update(User).where(User.id == user.id).values(active=False))
    session.commit()
    get_queue(app).enqueue(item_ids)
    session.expire_all()
    assert runs == {} and session.get(Job, job.id).status == "failed"


def test_a_user_whose_role_no_longer_allows_the_kind_stops_the_job(app, session, org_people, counted):
    runs, _ = counted
    user = org_people["worker"]
    job, item_ids = jobs.create(session, kind="test.counted", keys=["a"], params={}, title="T",
                                actor=actor_of(user))
    session.execute(update(User).where(User.id == user.id).values(role="funder"))  # project.rows: not a funder's
    session.commit()
    get_queue(app).enqueue(item_ids)
    session.expire_all()
    assert runs == {} and session.get(Job, job.id).status == "failed"


def test_expired_jobs_and_their_results_are_deleted(app, session, org_people, counted):
    worker = actor_of(org_people["worker"])
    public_id, _ = start(app, session, worker, ["a"])
    assert jobs.expire(session) == 0
    assert jobs.expire(session, now=utcnow() + timedelta(days=jobs.KEEP_DAYS + 1)) == 1
    assert session.scalars(select(JobFile)).all() == [] and session.scalars(select(JobItem)).all() == []
    with pytest.raises(NotFound):
        job_views.view(session, worker, public_id)


def test_a_large_result_is_stored_in_chunks_and_read_back_whole(app, session, org_people):
    worker = actor_of(org_people["worker"])
    job, _ = jobs.create(session, kind="test.counted", keys=["a"], params={}, title="T", actor=worker)
    session.commit()
    data = bytes(range(256)) * (jobs.CHUNK_BYTES // 100)  # about 2.6 chunks
    jobs.store_result(session, job.id, name="big.bin", mime="application/octet-stream",
                      chunks=iter([data[:1000], data[1000:]]))
    view, chunks = job_views.result_chunks(session, worker, job.public_id)
    assert b"".join(chunks) == data and view.result_size == len(data)
    assert len(session.scalars(select(JobFile.id).where(JobFile.job_id == job.id)).all()) == 3


def test_the_queue_setting_chooses_the_engine(tmp_path):
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    assert isinstance(make_huey("", tmp_path), SqliteHuey)
    assert isinstance(make_huey("redis://127.0.0.1:6379/3", tmp_path), RedisHuey)
    assert isinstance(make_huey("immediate", tmp_path), MemoryHuey)
    with pytest.raises(ConfigError, match="SURVEYHUB_QUEUE_URL"):
        make_huey("amqp://guest:secret@rabbit/", tmp_path)
