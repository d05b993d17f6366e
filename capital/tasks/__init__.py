"""Celery tasks: thin, idempotent wrappers that take ids, call one service and commit."""
