"""Celery bound to the Flask app (the pattern of Flask's own Celery guide)."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    # Importing the task modules registers their @shared_task functions.
    celery_app.conf.include = ["capital.tasks.deadlines", "capital.tasks.mail", "capital.tasks.onboarding"]
    import capital.tasks.deadlines  # noqa: F401
    import capital.tasks.mail  # noqa: F401
    import capital.tasks.onboarding  # noqa: F401

    app.extensions["celery"] = celery_app
    return celery_app
