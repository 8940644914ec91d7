"""What the pVault import holds, and why the rest is held back.

`pvault.csv` takes an employee's rows only when every one of their transactions is Complete (one
incomplete line holds back all of that employee's cards), so a month where each employee has one
exception yields an import of 0 rows although most transactions are Complete. `pvault_summary`
says so in numbers: employees and rows in the import, and per held-back employee their
transactions, those not Complete by status, and the dollars — closest to complete first, so the
fewest fixes that grow the import come first. It is a pure function of the reconciliation, stored in
it (`Reconciliation.pvault`) when the reports are written, and read by `reconciliation.json`,
`ccproc reconcile`'s summary and the web page.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from shared.models import PvaultHeldBack, PvaultSummary, ReconciledTransaction, Reconciliation, Status
from shared.report.fields import STATUS_ORDER, complete_employees, employee_key


def pvault_summary(reconciliation: Reconciliation) -> PvaultSummary:
    """How many employees and rows `pvault.csv` holds, and each held-back employee's distance from it.

    Held-back employees come closest to complete first: fewest transactions not Complete, then the
    fewest dollars (by size) not Complete, then in statement order.
    """
    ready = complete_employees(reconciliation)
    by_employee: dict[str, list[ReconciledTransaction]] = defaultdict(list)
    for rt in reconciliation.transactions:
        by_employee[employee_key(rt)].append(rt)  # dicts keep statement order
    included = [rt for key in ready for rt in by_employee[key]]
    held = [_held_back(key, rows) for key, rows in by_employee.items() if key not in ready]
    order = {key: i for i, key in enumerate(by_employee)}
    held.sort(key=lambda h: (h.exceptions, abs(h.not_complete_amount), order[h.employee]))
    return PvaultSummary(
        employees=len(ready),
        rows=len(included),
        amount=_net(included),
        total_employees=len(by_employee),
        total_transactions=len(reconciliation.transactions),
        complete_transactions=sum(rt.status is Status.COMPLETE for rt in reconciliation.transactions),
        held_back=held,
    )


def _held_back(key: str, rows: list[ReconciledTransaction]) -> PvaultHeldBack:
    missing = [rt for rt in rows if rt.status is not Status.COMPLETE]
    counts = Counter(rt.status for rt in missing)
    return PvaultHeldBack(
        employee=key,
        cardholder=next((rt.transaction.cardholder for rt in rows if rt.transaction.cardholder), None),
        transactions=len(rows),
        not_complete={status: counts[status] for status in STATUS_ORDER if counts[status]},
        amount=_net(rows),
        not_complete_amount=_net(missing),
    )


def _net(rows: list[ReconciledTransaction]) -> Decimal:
    return sum((rt.transaction.net for rt in rows), Decimal(0))
