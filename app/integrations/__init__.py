"""Installing helpdesk integrations, and the outbox that writes assessments back to them."""
