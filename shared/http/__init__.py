"""The parts of the HTTP API that are not routes: error answers, API keys, the upload body reader.

The route table itself is `shared/http_app.py`.
"""
