"""A match said in the words a clerk uses, and how sure it is on a stated 0-100 scale.

Matching (`shared.matching.match`) pairs a transaction with an expense only when both belong to the same
person (by name, or through the alias table) and their amounts are equal to the cent; among such
candidates within the date window it prefers the closest date, then the most alike merchant. Its score,
`100 - 15 * days apart + 0.1 * merchant similarity`, runs from 110 (same day, same merchant) down to
`100 - 15 * window` and is an internal ranking, not something to show.

**Confidence** restates it on a 0-100 scale: 100, less 15 for each day between the two dates, less up to
10 for a merchant spelled differently (`0.1 * (100 - similarity)`); that is the score minus the 10 points
a merchant can add at most, rounded and clamped to 0-100 (a date window wider than 6 days could
otherwise go below 0). Same day, same merchant: 100; same day, unlike merchant: 90; a day apart: 75-85;
two days: 60-70; three: 45-55.

**Strength** names bands of it: *Strong* at 80 or more (the same day, or a day apart with a merchant at
least half alike), *Likely* at 60 or more (a day apart, or two with the merchant at least half alike),
*Possible* below. Person and amount are never in doubt for a match: matching requires both.
"""

from __future__ import annotations

from decimal import Decimal

from shared.models import Evidence, ReconciledTransaction
from shared.report.fields import money

# The matcher's weights (`shared.matching.match`, which a report may not import; a test holds them equal).
DAY_PENALTY = 15.0
MERCHANT_WEIGHT = 0.1
STRONG_FROM = 80
LIKELY_FROM = 60
SAME_MERCHANT_FROM = 95.0  # similarity (0-100) at which two spellings are the same merchant
SIMILAR_MERCHANT_FROM = 70.0


def match_confidence(evidence: Evidence | None) -> int | None:
    """How sure the match is, 0 to 100 (see the module); None without a match."""
    if evidence is None:
        return None
    shortfall = DAY_PENALTY * abs(evidence.date_offset_days) + MERCHANT_WEIGHT * (
        100.0 - evidence.merchant_similarity
    )
    return max(0, min(100, round(100.0 - shortfall)))


def strength(confidence: int) -> str:
    """`Strong`, `Likely` or `Possible`: the band a confidence falls in."""
    if confidence >= STRONG_FROM:
        return "Strong"
    if confidence >= LIKELY_FROM:
        return "Likely"
    return "Possible"


def _days(offset: int) -> str:
    days = abs(offset)
    if days == 0:
        return "same day"
    return f"{days} day{'s' if days != 1 else ''} apart"


def _merchant(similarity: float) -> str:
    if similarity >= SAME_MERCHANT_FROM:
        return "same merchant"
    if similarity >= SIMILAR_MERCHANT_FROM:
        return "similar merchant"
    return "different merchant name"


def _amount(rt: ReconciledTransaction) -> str:
    if rt.expense is None:
        return "same amount"
    difference = abs(Decimal(money(rt.expense.amount)) - Decimal(money(rt.transaction.net)))
    return "same amount" if not difference else f"amount differs by ${difference:,.2f}"


def match_words(rt: ReconciledTransaction) -> str | None:
    """The match as a sentence a clerk can check against the documents, e.g. `Strong match: same person,
    same amount, 1 day apart, similar merchant`; None when no expense matched."""
    evidence = rt.evidence
    confidence = match_confidence(evidence)
    if evidence is None or confidence is None:
        return None
    person = "same person (through an alias)" if evidence.via_alias else "same person"
    parts = (person, _amount(rt), _days(evidence.date_offset_days), _merchant(evidence.merchant_similarity))
    return f"{strength(confidence)} match: {', '.join(parts)}"
