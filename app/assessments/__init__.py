"""Scoring tickets and reading assessments: routes, service and the context snapshot they build."""
