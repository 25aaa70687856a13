"""Alembic environment and revisions (packaged, so `deskguard db upgrade` works from an install)."""
