"""Tickets as last seen, and the assessments made of them."""
