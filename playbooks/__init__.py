"""Shipped playbooks (YAML): which verification steps each requested action needs at each risk level.

Schema: app/core/playbook_schema.py. Loader and engine: app/core/playbook.py.
"""

from __future__ import annotations

from pathlib import Path

PLAYBOOK_DIR = Path(__file__).parent
