"""The runner (run_audit), the report, its renderers and the ledger."""
