"""The Function App: builds the app and registers the blueprints of `functions/`, nothing else."""

import azure.functions as func

from functions.health import bp as health

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health)
