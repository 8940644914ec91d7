"""Credit Card Processor: the product's logic as plain Python, shared by every runtime.

Packages, each above those it may import (docs/architecture.md draws the data flow):

| package | holds |
|---|---|
| `pdf` | reading a PDF's pages as printed rows, words and cells |
| `report` | the files finance staff download (receipt PDFs are cut during extraction, so it comes first) |
| `extraction` | which report a PDF is, its parsers and layouts, the sandboxed extraction job |
| `matching` | expenses to transactions, statuses, name aliases |
| `storage` | the gateway to blobs, queues and leases, and its Azure implementation |
| `telemetry` | spans, metrics and log records of the pipeline, and where they are exported |
| `sessions` | the use cases on storage: storage layout, API requests, extract / finalize / sweep |
| `http` | the API as one ASGI app, and the web page |
| `workers` | the Kubernetes (and local) runtime loops |
| `cli` | `ccproc` |

Beside them: `models` and `values` (the domain's records and values), `errors` (every error the
product raises, one tree), `settings` (one settings object, built at the edge), `offline` (the
offline run behind `ccproc reconcile`: PDFs on disk in, reports out). A package imports only those
listed before it and these; `tests/test_architecture.py` keeps the rule.
"""
