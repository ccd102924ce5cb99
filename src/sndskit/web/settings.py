"""What the web app is allowed to read and where it keeps its own files.

The client never sends a path: data folders are chosen by the *name* the server gave them
from its allow-list (``sndskit web --data DIR`` …), saved code lists and cohort runs by a
checked identifier inside the workspace folder.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sndskit.config import sndskit_home, store_path
from sndskit.engines.datasource import DataFolder, open_data
from sndskit.errors import SndskitError
from sndskit.privacy import DEFAULT_THRESHOLD

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,80}$")


def check_name(value: str, field_name: str) -> str:
    """An identifier safe as a file name (lower-case letters, digits, ``_ . -``)."""
    if not _NAME.match(value or "") or ".." in value:
        raise SndskitError(
            f"invalid name {value!r}: use lower-case letters, digits, '_', '-' or '.'",
            field=field_name,
        )
    return value


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class WebSettings:
    """Configuration of one web app instance.

    ``data_dirs`` maps a short name (shown in forms) to an allowed data location;
    ``token`` is required on every request when set (always set off loopback).
    """

    store: Path = field(default_factory=store_path)
    workspace: Path = field(default_factory=lambda: sndskit_home() / "web")
    data_dirs: dict[str, Path] = field(default_factory=dict)
    host: str = "127.0.0.1"
    token: str | None = None
    threshold: int = DEFAULT_THRESHOLD
    mappings: Path | None = None
    vocabulary: Path | None = None

    def __post_init__(self) -> None:
        self.store, self.workspace = Path(self.store), Path(self.workspace)
        if not is_loopback(self.host) and not self.token:
            self.token = secrets.token_urlsafe(24)
        for sub in ("codelists", "runs"):
            (self.workspace / sub).mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_paths(cls, data: list[Path], **kwargs) -> WebSettings:
        """Name each data location after its folder (``demo/data`` → ``data``), uniquely."""
        named: dict[str, Path] = {}
        for path in data:
            path = Path(path).expanduser().resolve()
            if not path.exists():
                raise SndskitError("data location not found", file=path, field="--data")
            base = re.sub(r"[^a-z0-9_.-]", "_", path.stem.lower()) or "data"
            name, n = base, 2
            while name in named:
                name, n = f"{base}-{n}", n + 1
            named[name] = path
        return cls(data_dirs=named, **kwargs)

    def open_data(self, name: str) -> DataFolder:
        """The allowed data location called ``name``; anything else is refused."""
        if name not in self.data_dirs:
            raise SndskitError(
                f"unknown data source {name!r}", field="data", allowed=list(self.data_dirs)
            )
        return open_data(self.data_dirs[name])

    def codelist_path(self, name: str) -> Path:
        return self.workspace / "codelists" / f"{check_name(name, 'codelist')}.json"

    def run_path(self, name: str) -> Path:
        return self.workspace / "runs" / check_name(name, "run")

    def saved_codelists(self) -> list[str]:
        return sorted(p.stem for p in (self.workspace / "codelists").glob("*.json"))
