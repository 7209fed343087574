"""Views of relation cards: search, the card and its tabs, magazine addresses, configuration."""
