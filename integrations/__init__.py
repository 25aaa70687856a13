"""Helpdesk adapters: one per helpdesk, each verifying, parsing and writing back (see DESIGN.md)."""
