"""Tasks are handed over as objects and named after their modules; nothing hides a missing one."""

import pytest
from celery import Celery

from capital.services.dispatch import after_commit, commit
from capital.tasks import deadlines, mail


def test_every_task_is_named_after_its_module_and_function(app):
    tasks = {name: task for name, task in app.extensions["celery"].tasks.items() if name.startswith("capital.")}
    assert set(tasks) == {"capital.tasks.deadlines.tick", "capital.tasks.mail.deliver", "capital.tasks.mail.password_reset",
                          "capital.tasks.mail.send_due", "capital.tasks.mail.write", "capital.tasks.onboarding.run"}
    for name, task in tasks.items():
        assert name == f"{task.run.__module__}.{task.run.__name__}"
    assert (deadlines.tick.name, mail.deliver.name) == ("capital.tasks.deadlines.tick", "capital.tasks.mail.deliver")


def test_the_beat_schedule_names_a_registered_task(app):
    celery = app.extensions["celery"]
    schedule = app.config["CELERY"]["beat_schedule"]
    assert schedule["tick"]["task"] == deadlines.tick.name
    assert all(entry["task"] in celery.tasks for entry in schedule.values())


def gone_away():
    """A task body registered with another Celery app only."""


def test_a_task_the_app_does_not_know_fails_loudly_after_the_commit(app):
    stranger = Celery("elsewhere", set_as_current=False).task(name="capital.tasks.gone.away")(gone_away)
    after_commit(stranger)
    with pytest.raises(KeyError):
        commit()
