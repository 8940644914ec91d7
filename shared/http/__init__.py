"""The HTTP API as one ASGI app, served by the Functions host (AsgiMiddleware) and by uvicorn alike.

- `app`: the route table, each route one call of a use case in `shared.sessions`; the web page.
- `errors`: the one shape of every failure, and the HTTP status of each product error (decided here,
  at the edge, and nowhere else).
- `auth`: API keys and the caller's tenant; `body`: body limits and the upload reader; `models`:
  request and answer models; `web/`: the page finance staff use (HTML, CSS, JavaScript, no build).

May import: `shared.sessions` and what it imports; never a runtime.
"""
