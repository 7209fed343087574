"""Contribution rates, invoice runs, invoices, SEPA mandates and batches."""
