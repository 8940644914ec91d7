"""Stage 4 — match: statement transactions ↔ expenses, then a status for every transaction.

Rules, in order: the employee (cardholder name = expense name normalised, or through the alias
table), the amount (expense amount = Net Cost to the cent, sign included, so a credit only meets a
refund), the date (within ± the window), and merchant similarity as the tie-breaker. Candidates
sharing an employee and an amount are assigned as a whole — the most pairs, then the best total
score, not the first in file order — with the Hungarian method (the `munkres` package: pure Python,
no numpy/scipy, whose import alone would cost more memory than extracting a 500 MB report).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from munkres import DISALLOWED, Munkres
from rapidfuzz import fuzz, process, utils

from shared.models import (
    Document,
    Evidence,
    Expense,
    ReconciledTransaction,
    Reconciliation,
    Status,
    Transaction,
    UnresolvedName,
)
from shared.settings import Settings
from shared.values import normalise_name

CENT = Decimal("0.01")
DAY_PENALTY = 15.0  # one day off costs more than any merchant spelling can win back
MERCHANT_WEIGHT = 0.1
SUGGEST_MIN_SIMILARITY = 80.0


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class _Person:
    cardholder: str
    via_alias: bool


def resolve(expense_name: str | None, cardholders: set[str], aliases: Mapping[str, str]) -> _Person | None:
    """The statement cardholder an expense's typed name belongs to, if any."""
    if not expense_name:
        return None
    key = normalise_name(expense_name)
    if key in cardholders:
        return _Person(key, via_alias=False)
    target = aliases.get(key)
    if target in cardholders:
        return _Person(target, via_alias=True)
    return None


def merchant_similarity(statement_merchant: str | None, expense_merchant: str | None) -> float:
    """0 to 100: how alike two spellings of a merchant are (abbreviations and truncation tolerated)."""
    if not statement_merchant or not expense_merchant:
        return 0.0
    return float(fuzz.WRatio(statement_merchant, expense_merchant, processor=utils.default_process))


def status_of(expense: Expense | None) -> Status:
    """The status a matched expense (or none) gives its transaction."""
    if expense is None:
        return Status.MISSING_BOTH
    has_receipt, coded = bool(expense.attachments), expense.coding.complete
    if has_receipt and coded:
        return Status.COMPLETE
    if coded:
        return Status.MISSING_RECEIPT
    if has_receipt:
        return Status.MISSING_CODING
    return Status.MISSING_BOTH


def _evidence(t: Transaction, e: Expense, person: _Person, window: int) -> tuple[float, Evidence] | None:
    days = (e.date - t.transaction_date).days
    if abs(days) > window:
        return None
    similarity = merchant_similarity(t.merchant, e.merchant)
    score = 100.0 - DAY_PENALTY * abs(days) + MERCHANT_WEIGHT * similarity
    name = f"employee {person.cardholder}" + (
        f" (alias of {normalise_name(e.employee_name or '')})" if person.via_alias else ""
    )
    rules = [
        name,
        f"amount {_cents(t.net)} equal",
        f"date {'same day' if days == 0 else f'{days:+d} day(s)'} (window ±{window})",
        f"merchant {similarity:.0f}% similar",
    ]
    evidence = Evidence(
        employee=person.cardholder,
        via_alias=person.via_alias,
        amount=_cents(t.net),
        date_offset_days=days,
        merchant_similarity=round(similarity, 1),
        score=round(score, 2),
        rules=rules,
    )
    return score, evidence


def match(
    transactions: Sequence[Transaction],
    expenses: Sequence[Expense],
    *,
    aliases: Mapping[str, str],
    window: int,
) -> tuple[dict[int, tuple[int, Evidence]], set[str]]:
    """Optimal one-to-one pairs: transaction index → (expense index, evidence); and resolved names."""
    cardholders = {normalise_name(t.cardholder) for t in transactions if t.cardholder}
    by_key_t: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
    for i, t in enumerate(transactions):
        if t.cardholder:
            by_key_t[(normalise_name(t.cardholder), _cents(t.net))].append(i)
    by_key_e: dict[tuple[str, Decimal], list[tuple[int, _Person]]] = defaultdict(list)
    resolved_names: set[str] = set()
    for j, e in enumerate(expenses):
        person = resolve(e.employee_name, cardholders, aliases)
        if person is not None:
            resolved_names.add(person.cardholder)
            by_key_e[(person.cardholder, _cents(e.amount))].append((j, person))

    pairs: dict[int, tuple[int, Evidence]] = {}
    for key, t_indices in by_key_t.items():
        candidates = by_key_e.get(key)
        if not candidates:
            continue
        found: dict[tuple[int, int], tuple[float, Evidence]] = {}
        for r, i in enumerate(t_indices):
            for c, (j, person) in enumerate(candidates):
                scored = _evidence(transactions[i], expenses[j], person, window)
                if scored is not None:
                    found[(r, c)] = scored
        for (r, c), evidence in _assign(found, len(t_indices), len(candidates), window).items():
            pairs[t_indices[r]] = (candidates[c][0], evidence)
    return pairs, resolved_names


def _assign(
    found: dict[tuple[int, int], tuple[float, Evidence]], rows: int, cols: int, window: int
) -> dict[tuple[int, int], Evidence]:
    """The most pairs, then the highest total score: one Hungarian assignment over the candidates.

    Each row and column may also stay unpaired (a dummy partner at cost 0); a real pair's weight is
    a base larger than any sum of score differences, so one more pair always beats better scores.
    """
    if not found:
        return {}
    if len(found) == 1:
        ((pair, (_, evidence)),) = found.items()
        return {pair: evidence}
    spread = DAY_PENALTY * window + MERCHANT_WEIGHT * 100
    base = (min(rows, cols) + 1) * spread + 1
    size = rows + cols
    cost: list[list[object]] = [[DISALLOWED] * size for _ in range(size)]
    for (r, c), (score, _) in found.items():
        cost[r][c] = -(base + score)
    for r in range(rows):
        cost[r][cols + r] = 0  # row r unpaired
    for c in range(cols):
        cost[rows + c][c] = 0  # column c unpaired
        for r in range(rows):
            cost[rows + c][cols + r] = 0  # dummy with dummy
    chosen = Munkres().compute(cost)  # type: ignore[arg-type]
    return {(r, c): found[(r, c)][1] for r, c in chosen if (r, c) in found}


def _unresolved(
    transactions: Sequence[Transaction],
    expenses: Sequence[Expense],
    resolved: set[str],
    aliases: Mapping[str, str],
) -> list[UnresolvedName]:
    """Cardholders no expense name reaches, and expense names that reach no cardholder."""
    cardholders = {normalise_name(t.cardholder): t.cardholder for t in transactions if t.cardholder}
    lost_expense_names: dict[str, str] = {}
    for e in expenses:
        if e.employee_name and resolve(e.employee_name, set(cardholders), aliases) is None:
            lost_expense_names.setdefault(normalise_name(e.employee_name), e.employee_name)
    lonely = {k: v for k, v in cardholders.items() if k not in resolved}

    def suggest(name: str, choices: Mapping[str, str]) -> str | None:
        best = process.extractOne(
            name, list(choices), scorer=fuzz.WRatio, score_cutoff=SUGGEST_MIN_SIMILARITY
        )
        return best[0] if best else None

    names = [
        UnresolvedName(name=raw, normalized=key, side="receipts", suggestion=suggest(key, cardholders))
        for key, raw in sorted(lost_expense_names.items())
    ]
    names += [
        UnresolvedName(
            name=raw, normalized=key, side="statement", suggestion=suggest(key, lost_expense_names)
        )
        for key, raw in sorted(lonely.items())
    ]
    return names


def reconcile(
    statement: Document | None,
    receipts: Document | None,
    *,
    aliases: Mapping[str, str],
    settings: Settings,
) -> Reconciliation:
    """Match one statement with one receipts report; either may be missing."""
    transactions = statement.transactions if statement else []
    expenses = receipts.expenses if receipts else []
    pairs, resolved = match(transactions, expenses, aliases=aliases, window=settings.date_window_days)
    rows = []
    for i, t in enumerate(transactions):
        if i in pairs:
            j, evidence = pairs[i]
            rows.append(
                ReconciledTransaction(
                    transaction=t, expense=expenses[j], status=status_of(expenses[j]), evidence=evidence
                )
            )
        elif t.net < 0 and not settings.credits_need_refund:
            rows.append(
                ReconciledTransaction(
                    transaction=t, status=Status.COMPLETE, note="credit: settings need no refund expense"
                )
            )
        else:
            rows.append(ReconciledTransaction(transaction=t, status=Status.MISSING_BOTH))
    used = {j for j, _ in pairs.values()}
    return Reconciliation(
        statement_file=statement.file if statement else None,
        receipts_file=receipts.file if receipts else None,
        period_start=statement.period_start if statement else None,
        period_end=statement.period_end if statement else None,
        transactions=rows,
        unmatched_expenses=[e for j, e in enumerate(expenses) if j not in used],
        unresolved_names=_unresolved(transactions, expenses, resolved, aliases),
        checks=[*(statement.checks if statement else []), *(receipts.checks if receipts else [])],
        warnings=[*(statement.warnings if statement else []), *(receipts.warnings if receipts else [])],
    )
