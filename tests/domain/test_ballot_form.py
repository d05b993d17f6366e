"""The ballot form, the ranking in words, the tie-break draw, codes and the voter roll."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from capital.domain.ballots import (
    CODE_ALPHABET, BallotFormError, BoardMember, candidate_names, is_quorum_met, new_receipt_code,
    new_replacement_secret, normalize_code, quorum_needed, ranking_in_words, ranks_of, read_ballot, secret_hash,
    tie_break_order, unranked, voter_roll,
)

IDS = [10, 11, 12, 13]


def errors(ranks):
    with pytest.raises(BallotFormError) as refused:
        read_ballot(ranks, IDS)
    return [(e.nomination_id, e.message.code) for e in refused.value.errors]


def test_a_full_ranking_is_read_best_first():
    assert read_ballot({10: "2", 11: "1", 12: "3", 13: "4"}, IDS) == ((11,), (10,), (12,), (13,))


def test_blank_means_no_preference_and_equal_ranks_tie():
    assert read_ballot({10: "1", 11: "", 12: "1", 13: None}, IDS) == ((10, 12),)


@pytest.mark.parametrize("ranks", [{10: "1", 11: "2", 12: "2", 13: "3"}, {10: "1", 11: "2", 12: "2", 13: "4"}])
def test_dense_and_sports_table_rankings_with_ties_mean_the_same(ranks):
    assert read_ballot(ranks, IDS) == ((10,), (11, 12), (13,))


def test_a_skipped_rank_that_no_tie_explains_is_refused_at_its_field():
    assert errors({10: "1", 11: "3"}) == [(11, "ballot.rank_skipped")]
    assert errors({10: "2"}) == [(10, "ballot.rank_skipped")]


@pytest.mark.parametrize("value", ["0", "5", "-1", "x", "1.5", "٥", "²"])
def test_a_rank_out_of_range_is_refused_at_its_field(value):
    assert errors({10: "1", 11: value}) == [(11, "ballot.rank_out_of_range")]


def test_a_rank_typed_in_arabic_indic_digits_is_read_as_its_number():
    # The rank is a text field: an Arabic keyboard types ١ and ٢ for 1 and 2.
    assert read_ballot({10: "١", 11: "٢", 12: " 2 "}, IDS) == ((10,), (11, 12))


def test_unknown_nomination_and_empty_ballot_are_refused():
    assert errors({99: "1"}) == [(None, "ballot.unknown_nomination")]
    assert errors({10: "", 11: " "}) == [(None, "ballot.empty")]
    assert errors({}) == [(None, "ballot.empty")]


def test_the_ranking_in_words_and_back_to_ranks():
    ranking = ((11,), (10, 12))
    names = {10: "Venlo", 11: "Palermo", 12: "Lyon", 13: "Paris"}
    assert ranking_in_words(ranking, names) == "1. Palermo 2. Venlo = Lyon"
    assert ranks_of(ranking) == {11: 1, 10: 2, 12: 2}
    assert unranked(ranking, IDS) == [13]


def test_candidate_names_are_unique_even_when_two_nominations_share_a_host():
    names = candidate_names([(1, "Lyon", "Paris"), (2, "Lyon", "Venlo"), (3, "Bamako", "Bamako"),
                             (4, "Lyon", "Venlo"), (5, "A>B: C#", "x")])
    assert names == {1: "Lyon (Paris)", 2: "Lyon (Venlo) 2", 3: "Bamako", 4: "Lyon (Venlo) 4", 5: "A B C"}


def test_the_tie_break_order_follows_from_the_seed_alone():
    first = tie_break_order("abc", [3, 1, 2, 4])
    assert sorted(first) == [1, 2, 3, 4]
    assert tie_break_order("abc", [4, 2, 1, 3]) == first
    orders = {tuple(tie_break_order(seed, range(6))) for seed in ("a", "b", "c", "d", "e")}
    assert len(orders) > 1


def test_codes_use_an_unambiguous_alphabet_and_do_not_repeat():
    codes = {new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 19 and set(code.replace("-", "")) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(CODE_ALPHABET)
    secret = new_replacement_secret()
    assert secret_hash(secret) == secret_hash(" " + secret.lower().replace("-", " "))
    assert normalize_code("abcd efgh") == "ABCD-EFGH"


def member(user_id, city_id=None, start=date(2026, 1, 1), end=date(2027, 12, 31)):
    return BoardMember(user_id, city_id, ((start, end),))


def test_the_roll_takes_members_serving_on_the_day_minus_recusals():
    members = [member(1), member(2, city_id=7), member(3, end=date(2027, 3, 1)), member(4), member(5, city_id=8)]
    roll = voter_roll(members, date(2027, 3, 2), conflicted_cities={7}, recused={4}, requires_recusal=True)
    assert roll.voters == (1, 5) and roll.automatic_recusals == (2,)
    roll = voter_roll(members, date(2027, 3, 1), conflicted_cities={7}, recused=(), requires_recusal=False)
    assert roll.voters == (1, 2, 3, 4, 5) and roll.automatic_recusals == ()


def test_quorum_is_a_share_of_the_roll_rounded_up():
    assert quorum_needed(10, Decimal("0.5")) == 5
    assert quorum_needed(7, Decimal("0.5")) == 4
    assert is_quorum_met(4, 7, Decimal("0.5")) and not is_quorum_met(3, 7, Decimal("0.5"))
    assert not is_quorum_met(0, 0, Decimal("0.5"))
