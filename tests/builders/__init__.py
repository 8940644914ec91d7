"""Deterministic builders of the two input PDFs, each with its exact ground truth.

- :func:`build_statement` draws a Cardholder Activity Report General (reportlab, or fpdf2);
- :func:`build_receipts` writes a Receipt Images Report (streamed, sized by ``target_mb``; or fpdf2);
- :func:`build_month` writes both for one month plus the true expense-transaction pairs.

Each draws its text in a producer style (``cells``, ``line``, ``words``, ``padded``; the statement
also ``joined``, the receipts' default ``stacked``): see :mod:`tests.builders.statement_lines` and
:mod:`tests.builders.receipts_form`. The truth never depends on the style or the producer.

``python -m tests.builders --help`` offers the same from the command line.
"""

from tests.builders.month import build_month
from tests.builders.receipts import build_receipts
from tests.builders.statement import build_statement

__all__ = ["build_month", "build_receipts", "build_statement"]
