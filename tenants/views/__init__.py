"""Views of the tenants app: accounts, environments, tenant details and user management."""
