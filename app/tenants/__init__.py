"""Tenants: one per helpdesk installation; every other row belongs to exactly one."""
