"""Matching: every expense to at most one statement transaction, each transaction's status, and the
name aliases that join the expense system's names to the statement's cardholders.

- `match`: `reconcile(statement, expenses report, aliases, settings)` → `Reconciliation`.
- `aliases`: name normalising, the alias table interface and its JSON-file store (the cloud's
  per-tenant store is `shared.sessions.aliases`).

May import: `shared.models`, `shared.values`, `shared.errors`, `shared.settings`; never storage.
"""
