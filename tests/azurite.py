"""The Azurite launcher the tests use: the product's own (`shared.devstack`, also behind `ccproc dev`)."""

from shared.devstack import ACCOUNT, ACCOUNT_KEY, HOST, Azurite, AzuriteError, free_port

__all__ = ["ACCOUNT", "ACCOUNT_KEY", "HOST", "Azurite", "AzuriteError", "free_port"]
