"""Selection wizards, the field catalogue, runs and exports, mutation list, dashboard reports."""
