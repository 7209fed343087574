"""Relation cards, custom fields, search, history, communication log, merge, import, GDPR export."""
