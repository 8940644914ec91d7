"""The Kubernetes (and local) runtime: long-running loops over the same use cases the Functions
triggers call, and the local stack `ccproc dev` starts.

- `loops`: the extract worker (takes uploads under a blob-lease claim) and the finalize worker (the
  results queue), with health files for the probes.
- `devstack`: Azurite, the API and both workers on one machine.

May import: `shared.sessions`, `shared.storage` and what they import; a runtime, so the Azure SDK too.
"""
