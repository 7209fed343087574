"""Environments (the tenant tree), users, roles, access and the current-environment switch."""
