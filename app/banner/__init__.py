"""The agent's banner: a sidebar page inside the helpdesk, its session tokens and its API."""
