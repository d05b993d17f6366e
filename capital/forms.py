"""Pieces shared by the forms of several blueprints."""


def strip(value):
    """Field filter: drop surrounding spaces pasted along with a value."""
    return value.strip() if isinstance(value, str) else value
