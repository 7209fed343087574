"""Mail templates and tokens, rendering (mail and PDF), outbound mail, data-quality rules, nightly jobs."""
