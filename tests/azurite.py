"""The Azurite launcher the tests use: the product's own (`shared.workers.devstack`, behind `ccproc dev`)."""

from shared.errors import LocalStackError as AzuriteError
from shared.workers.devstack import ACCOUNT, ACCOUNT_KEY, HOST, Azurite, free_port

__all__ = ["ACCOUNT", "ACCOUNT_KEY", "HOST", "Azurite", "AzuriteError", "free_port"]
