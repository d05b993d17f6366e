"""The web application, for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""

from capital import create_app

app = create_app()
