"""Extraction: one PDF in, one `Document` out — detect which report it is, parse it, check totals.

- `extract`: the driver (read → detect → parse), parallel page reading for long statements.
- `detect`: statement (which issuer's layout) or Receipt Images Report, from the first text page.
- `statement` and `columns`: the statement parser, and where its columns are printed (the column
  header on each page); `layouts/`: each issuer's layout as validated JSON data.
- `expenses`: the Receipt Images Report parser (one expense per page, labels and values).
- `sandbox`: the extraction job in a child process under CPU, memory and time limits, cutting each
  expense's receipt pages while the report is read.

May import: `shared.pdf`, `shared.models`, `shared.values`, `shared.errors`, `shared.settings`,
`shared.report` (receipt cutting); never storage, sessions or a runtime.
"""
