"""The framework's own limit: a bare Flask "hello world", served the same way as Capital by bench/year_page.py."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"
