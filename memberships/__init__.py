"""Function types, dated functions, transfers and end rules, intake forms, registrations."""
