"""The storage gateway: the one door to blobs, queues and leases.

- `gateway`: the `Storage` protocol every use case is written against, its value types and errors.
- `azure` (with `azure_queues` and `azure_errors`): its implementation on Azure Blob and Queue
  Storage (Azurite locally) — with the runtimes, the only code that imports the Azure SDK.
- `retrying`: transient failures retried with backoff, wrapped around the real gateway.
- `streams`: streams in and out of blobs (a capped request body, numbered files read as one stream).

Which blob and queue names exist is not decided here but in `shared.sessions.layout`.
May import: the Azure SDK (in the `azure*` modules only), `shared.errors`, `shared.settings`.
"""
