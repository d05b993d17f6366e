"""A dossier's versions: what a save changed, the net change of several, a stale version refused."""

import pytest

from capital.domain.revisions import StaleVersion, changes_since, check_version, diff, merge, parse_version


def test_diff_keeps_only_the_changed_fields_with_before_and_after():
    before = {"title": "Rhine", "themes": [1], "partners": "Schools", "letter": None}
    after = {"title": "Living on the Rhine", "themes": [1], "partners": "", "letter": ["brief.pdf", "ab12"]}
    assert diff(before, after) == {"title": ["Rhine", "Living on the Rhine"], "partners": ["Schools", ""],
                                   "letter": [None, ["brief.pdf", "ab12"]]}
    assert diff(before, dict(before)) == {}


def test_a_field_only_on_one_side_counts_as_empty_on_the_other():
    assert diff({"title": "A"}, {"title": "A", "summary_fr": "Bonjour"}) == {"summary_fr": [None, "Bonjour"]}


def test_the_net_change_runs_from_before_the_first_save_to_after_the_last():
    saves = [{"title": ["A", "B"], "partners": ["x", "y"]},
             {"title": ["B", "C"]},
             {"partners": ["y", "x"], "themes": [[1], [1, 5]]}]
    assert changes_since(saves) == {"title": ["A", "C"], "themes": [[1], [1, 5]]}
    assert changes_since([]) == {}


def test_a_version_from_a_form_is_a_positive_whole_number_or_nothing():
    assert parse_version("7") == 7
    assert parse_version(" 12 ") == 12
    for garbled in (None, "", "seven", "0", "-3", "1.5", "٣", "9" * 400, str(2**31)):
        assert parse_version(garbled) is None, garbled


def test_only_the_current_version_passes():
    check_version(4, 4)
    for stale in (3, 5, None):
        with pytest.raises(StaleVersion) as refused:
            check_version(stale, 4)
        assert refused.value.reason.code == "nomination.stale_version"
        assert (refused.value.started_from, refused.value.current) == (stale, 4)


def test_what_was_typed_meets_what_was_saved_in_between_field_by_field():
    changes = {"title": ["A", "B"], "partners": ["x", "y"], "themes": [[1], [1, 5]], "letter": [None, ["l.pdf", "ab"]]}
    typed = {"title": "A", "partners": "mine", "themes": [1, 5], "summary_en": "new"}
    assert merge(changes, typed) == {"title": "taken", "partners": "clash", "themes": "same", "letter": "saved"}
