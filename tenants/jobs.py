"""The nightly jobs that apps other than quality run in its job machinery (run records,
catching up; docs/jobs.md). quality owns the machinery; a sibling feature such as the dashboard
may not import it, so it registers its job here, below both, in its AppConfig.ready()."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime.date], dict]
    # A run missed by less than this is still made up by catching up; an older one is not (a
    # digest from last week or a January list in March helps nobody).
    catch_up_within: datetime.timedelta


_jobs: dict[str, Job] = {}


def job_register(job: Job) -> None:
    _jobs[job.name] = job


def registered_jobs() -> dict[str, Job]:
    return dict(_jobs)
