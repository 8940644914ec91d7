"""The Function App: builds the app and registers the blueprints of `functions/`, nothing else."""

import azure.functions as func

from functions.api import bp as api
from functions.extract import bp as extract
from functions.extract_gave_up import bp as extract_gave_up
from functions.finalize import bp as finalize
from functions.health import bp as health
from functions.sweep import bp as sweep
from functions.web import bp as web

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (health, api, extract, extract_gave_up, finalize, sweep, web):
    app.register_functions(blueprint)
