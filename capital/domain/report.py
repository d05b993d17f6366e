"""The jury report: what a draft must hold and which language a reader is shown (docs/public.md).

The report has a citation (a few paragraphs on the designated capital), optional reasons
against each of the cycle's criteria (kept by criterion id, empty when the cycle has none),
and optional short paragraphs on the other finalists. It may be written in any of the seven
languages; a reader sees their own language where it exists, otherwise the language it was
first written in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from capital.domain.localisation import LOCALES
from capital.domain.messages import Message, N_
from capital.domain.phase import Phase

CITATION_LIMIT = 6000
PARAGRAPH_LIMIT = 1500
# Anything shaped like a printed receipt code (four dash-joined groups of four letters or digits with a
# digit among them, capital.domain.ballots): the report is public, and a receipt beside words would tie a
# ballot to its voter. Words joined by dashes ("well-kept-open-door") carry no digit.
_RECEIPT_LIKE = re.compile(r"(?<![0-9A-Za-z-])(?=[A-Za-z-]*[0-9])[0-9A-Za-z]{4}(?:-[0-9A-Za-z]{4}){3}(?![0-9A-Za-z-])")
_RECEIPT_MESSAGE = N_("Leave receipt codes out of the report: the report is public, and a receipt code would tie "
                      "a ballot to its voter.")
# The report is written once the board's vote has been counted.
WRITING_PHASES = frozenset({Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED})


def report_problems(locale: str, citation: str, paragraphs: Mapping[object, str],
                    receipt_codes: Collection[str] = (), reasons: Mapping[object, str] | None = None) -> list[Message]:
    """What stops a draft in ``locale`` from being saved (an empty list when it can be); ``receipt_codes``
    are the cycle's, which no text may hold in any spelling.

    ``paragraphs`` (the notes on other finalists) and ``reasons`` (by criterion) are checked alike,
    each problem naming its ``key``; a reason's codes start ``report.reason`` and a note's
    ``report.paragraph``, so that a form can show each at its own field."""
    problems = []
    if locale not in LOCALES:
        problems.append(Message(N_("This language is not available."), {}, "report.locale"))
    if not citation.strip():
        problems.append(Message(N_("Write the citation: a few paragraphs on the designated capital."), {},
                                "report.citation_missing"))
    elif len(citation) > CITATION_LIMIT:
        problems.append(Message(N_("The citation is too long: at most %(limit)s characters."),
                                {"limit": CITATION_LIMIT}, "report.citation_long"))
    if has_receipt_code(citation, receipt_codes):
        problems.append(Message(_RECEIPT_MESSAGE, {}, "report.citation_receipt"))
    for kind, texts in (("paragraph", paragraphs), ("reason", reasons or {})):
        for key, text in texts.items():
            if len(text) > PARAGRAPH_LIMIT:
                problems.append(Message(N_("A paragraph is too long: at most %(limit)s characters."),
                                        {"limit": PARAGRAPH_LIMIT, "key": key}, f"report.{kind}_long"))
            if has_receipt_code(text, receipt_codes):
                problems.append(Message(_RECEIPT_MESSAGE, {"key": key}, f"report.{kind}_receipt"))
    return problems


def has_receipt_code(text: str, codes: Collection[str] = ()) -> bool:
    """Whether ``text`` holds something shaped like a ballot's receipt code, or one of ``codes``
    (printed form) written in any case, spacing or dashes."""
    if _RECEIPT_LIKE.search(text):
        return True
    plain = "".join(c for c in text.upper() if c.isalnum())
    return any(code.replace("-", "") in plain for code in codes)


def reader_language(available: Collection[str], reader: str, first: str | None) -> str | None:
    """The language of the report a reader of ``reader`` sees: theirs where it exists, else the
    one it was first written in (else any, in the order of LOCALES); None without a text."""
    if reader in available:
        return reader
    if first in available:
        return first
    return next((locale for locale in LOCALES if locale in available), None)


def paragraphs(text: str) -> list[str]:
    """A text as its paragraphs: blocks separated by blank lines, each stripped."""
    blocks = [" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n")]
    return [block for block in blocks if block]


def ordered_languages(available: Collection[str]) -> list[str]:
    """The languages a report exists in, in the order of LOCALES."""
    return [locale for locale in LOCALES if locale in available]
