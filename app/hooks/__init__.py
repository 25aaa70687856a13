"""Receiving helpdesk webhooks."""
