"""`sndskit data status`: what the local store holds, from where, and when."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sndskit.config import store_path
from sndskit.store import connect_store


def get_store_status(home: Path | None = None) -> dict[str, Any]:
    """The store's manifest as recorded inside it (the single source of truth).

    >>> get_store_status()["store"].endswith("store.duckdb")
    True
    """
    path = store_path(home)
    if not path.exists():
        return {"store": str(path), "exists": False, "manifest": None}
    con = connect_store(path)
    try:
        row = con.execute("SELECT value FROM store_info WHERE key = 'manifest'").fetchone()
    finally:
        con.close()
    return {
        "store": str(path),
        "exists": True,
        "bytes": path.stat().st_size,
        "manifest": json.loads(row[0]),
    }
