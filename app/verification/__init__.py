"""Verification methods an agent runs from the banner, each recording a verification event."""
