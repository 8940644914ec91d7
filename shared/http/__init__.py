"""The parts of the HTTP API that are not routes: error answers (`errors`), API keys and the caller's
tenant (`auth`), body limits and the upload body reader (`body`), request and answer models (`models`).

The route table itself is `shared/http_app.py`.
"""
