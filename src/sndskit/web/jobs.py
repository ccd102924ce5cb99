"""Long work (cohort runs) in background threads, so pages stay responsive meanwhile.

A job records its progress (step name, done, total) for the page that polls it, and its
outcome: a result or the error message. Person-level results never pass through here.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sndskit.errors import SndskitError

log = logging.getLogger("sndskit.web")


@dataclass
class Job:
    id: str
    label: str
    started: float = field(default_factory=time.time)
    step: str = ""
    done: int = 0
    total: int = 0
    finished: bool = False
    error: str | None = None
    result: Any = None

    def progress(self, step: str, done: int, total: int) -> None:
        self.step, self.done, self.total = step, done, total

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class JobRegistry:
    """Jobs of this server process, by id (a random, unguessable string)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def start(self, label: str, work: Callable[[Job], Any]) -> Job:
        job = Job(secrets.token_hex(8), label)
        self._jobs[job.id] = job

        def target() -> None:
            try:
                job.result = work(job)
            except SndskitError as exc:
                job.error = exc.render()
            except Exception as exc:  # shown as a message; the traceback goes to the log
                log.exception("job %s failed", job.id)
                job.error = f"{type(exc).__name__}: {exc}"
            finally:
                job.finished = True

        threading.Thread(target=target, name=f"sndskit-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise SndskitError(f"no run {job_id!r} on this server", field="run")
        return job

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: -j.started)
