"""The append-only audit trail: who did what to which subject (ids and hashes only)."""
