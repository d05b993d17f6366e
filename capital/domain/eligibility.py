"""Whether a nomination meets its cycle's rules (docs/rules.md).

The caller gathers plain :class:`NominationFacts`; :func:`evaluate` applies the cycle's
:class:`EligibilityRules` and returns every unmet rule at once, each with a stable code. The
secretariat's decision stays theirs: this is the report that informs it, and the check a
city sees before it submits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from capital.domain.dossier import DossierData, DossierLimits, check_dossier
from capital.domain.membership import CityStatus, in_good_standing
from capital.domain.messages import Decision, Message, N_

RULE_SWITCHES = (
    "nominator_in_good_standing",
    "host_in_good_standing",
    "one_nomination_per_city",
    "host_consent_letter",
    "dossier_complete",
)


@dataclass(frozen=True)
class EligibilityRules:
    """The rules of one cycle: which are enabled, with their parameters.

    ``recent_capital_years`` is how many years before the cycle's a former capital may not be
    nominated again (2: the capitals of the two previous years are excluded; 0 disables the rule).
    """

    nominator_in_good_standing: bool = True
    host_in_good_standing: bool = True
    one_nomination_per_city: bool = True
    recent_capital_years: int = 2
    host_consent_letter: bool = True
    dossier_complete: bool = True
    dossier_limits: DossierLimits = field(default_factory=DossierLimits)

    def __post_init__(self) -> None:
        for name in RULE_SWITCHES:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"rule {name} must be true or false, got {getattr(self, name)!r}")
        years = self.recent_capital_years
        if type(years) is not int or years < 0:
            raise ValueError(f"recent_capital_years must be a non-negative integer, got {years!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, as stored on the cycle."""
        data = asdict(self)
        data["dossier_limits"] = self.dossier_limits.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> EligibilityRules:
        """Rules from stored JSON: a missing key takes its default, an unknown key is ignored
        (so cycles stored by an older or newer version still load); a wrong type raises ValueError."""
        data = data or {}
        values: dict[str, Any] = {name: data[name] for name in (*RULE_SWITCHES, "recent_capital_years") if name in data}
        values["dossier_limits"] = DossierLimits.from_dict(data.get("dossier_limits"))
        return cls(**values)


@dataclass(frozen=True)
class NominationFacts:
    """What the rules need to know about one nomination, as plain values.

    ``other_active_nominations`` counts the nominating city's *other* nominations in this
    cycle whose state is in :data:`capital.domain.nominations.ACTIVE_STATES` (submitted or
    eligible). ``host_capital_years`` are the years the host city was Capital of Living Together.
    """

    cycle_year: int
    nominating_city_status: CityStatus
    host_city_status: CityStatus
    other_active_nominations: int
    host_capital_years: frozenset[int]
    dossier: DossierData


def evaluate(facts: NominationFacts, rules: EligibilityRules | None = None) -> Decision:
    """Every enabled rule the nomination fails, in a fixed order; ``ok`` when there is none.

    Reason codes: ``eligibility.nominator_standing``, ``eligibility.host_standing``,
    ``eligibility.one_per_city``, ``eligibility.recent_capital``, ``eligibility.host_consent``,
    and the ``dossier.*`` codes of :func:`capital.domain.dossier.check_dossier`. When the
    consent rule is on, a missing letter is reported once, as ``eligibility.host_consent``.
    """
    rules = rules or EligibilityRules()
    reasons: list[Message] = []
    if rules.nominator_in_good_standing and not in_good_standing(facts.nominating_city_status):
        reasons.append(
            Message(N_("The nominating city is not a member in good standing."), {}, "eligibility.nominator_standing")
        )
    if rules.host_in_good_standing and not in_good_standing(facts.host_city_status):
        reasons.append(Message(N_("The host city is not a member in good standing."), {}, "eligibility.host_standing"))
    if rules.one_nomination_per_city and facts.other_active_nominations > 0:
        reasons.append(
            Message(N_("The nominating city already has a nomination in this cycle."), {}, "eligibility.one_per_city")
        )
    if recent := _recent_capital_year(facts, rules.recent_capital_years):
        reasons.append(
            Message(
                N_(
                    "The host city was Capital of Living Together in %(year)s; "
                    "it can be nominated again from %(next_year)s."
                ),
                {"year": recent, "next_year": recent + rules.recent_capital_years + 1},
                "eligibility.recent_capital",
            )
        )
    if rules.host_consent_letter and not facts.dossier.has_letter:
        reasons.append(
            Message(
                N_("The letter of commitment from the host city's mayor is missing."), {}, "eligibility.host_consent"
            )
        )
    if rules.dossier_complete:
        for problem in check_dossier(facts.dossier, rules.dossier_limits):
            if problem.code == "dossier.letter.missing" and rules.host_consent_letter:
                continue
            reasons.append(problem)
    return Decision.from_reasons(reasons)


def _recent_capital_year(facts: NominationFacts, years: int) -> int | None:
    """The latest year within the ``years`` before the cycle's in which the host was capital."""
    recent = [year for year in facts.host_capital_years if facts.cycle_year - years <= year < facts.cycle_year]
    return max(recent, default=None)
