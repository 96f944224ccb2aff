"""The grading options: one object, with every default written once.

Every layer of a batch takes this object and passes it on: the command line builds it
(``cli.py``), the batch reads what concerns it (``batch.py``: force, scheduler),
grading on this machine fills in what only it can know (``grade.py``: the folders
to hide, warm workers, the resolved device) and each grading process receives it
whole, in another process (``parallel.py``) or, as plain data, on another machine
(``distributed.py`` -> ``dask_task.py`` -> ``dask_worker.py``).

Across hosts it travels as plain data (``to_plain``/``from_plain``: JSON types only),
never pickled: a Dask worker runs another interpreter, perhaps another dlgrade build,
and a JSON request says exactly what crosses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from grader.course.layout import Course
from grader.sandbox.limits import Limits


@dataclass(frozen=True)
class GradingOptions:
    """How to grade one assignment's submissions; the defaults are dlgrade's defaults."""

    assignment: str
    course_root: str
    suite: str = "hidden"
    """``hidden`` (the grade) or ``public`` (the checks students see)."""
    mode: str = "definitions"
    """``definitions``: run imports and definitions only; ``all``: every top-level statement."""
    limits: Limits = Limits()
    device: str = "cpu"
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` as asked; a grading process gets one device."""
    workers: int = 1
    """Grading processes side by side on this machine (``parallel.py``)."""
    scheduler: str | None = None
    """The address of a Dask cluster to grade on instead of this machine."""
    min_workers: int = 1
    """With ``scheduler``: the Dask workers to wait for before cutting the work."""
    force: bool = False
    """Grade again what the gradebook already has."""
    warm: bool | None = None
    """Fork workers from a server (default: where the machine allows, ``forkserver.py``)."""
    preflight: bool | None = None
    """Grade the reference first and stop unless it gets full marks (default: hidden suite)."""
    hide: tuple[str, ...] = ()
    """Folders the worker must not see (filled in by ``grading.hidden_paths``)."""
    devices: tuple[str, ...] = ()
    """``device`` checked and resolved, once, by ``checked``: empty until then."""

    @classmethod
    def of(cls, course: Course, assignment: str, **choices) -> GradingOptions:
        """The options for ``assignment`` of ``course``; ``choices`` name fields to change."""
        return cls(assignment=assignment, course_root=str(course.root), **choices)

    @property
    def course(self) -> Course:
        return Course(Path(self.course_root))

    @property
    def run_all(self) -> bool:
        return self.mode == "all"

    @property
    def reference_first(self) -> bool:
        """Whether a grading process grades the reference before any student (``preflight``)."""
        return self.suite == "hidden" if self.preflight is None else self.preflight

    def but(self, **changes) -> GradingOptions:
        """A copy with ``changes``; the name says what ``dataclasses.replace`` does here."""
        return replace(self, **changes)

    def checked(self) -> GradingOptions:
        """The suite folder and the device checked, once, before any work: an unknown
        assignment or device is an error before anything is written. On a Dask cluster the
        GPUs are the workers' (this machine may have none): the device is only checked
        here, and resolved on each worker."""
        if self.devices:
            return self
        from grader.devices import check, resolve

        self.course.suite_dir(self.assignment, self.suite)
        return self.but(devices=(check(self.device),) if self.scheduler else tuple(resolve(self.device)))

    def to_plain(self) -> dict:
        """JSON types only: what a request to another machine carries."""
        plain = asdict(self)
        plain["hide"] = list(self.hide)
        plain["devices"] = list(self.devices)
        return plain

    @classmethod
    def from_plain(cls, data: dict) -> GradingOptions:
        """The options back from ``to_plain``; unknown keys are refused, not dropped."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown grading options: {', '.join(unknown)}")
        values = dict(data)
        values["limits"] = Limits(**data.get("limits", {}))
        values["hide"] = tuple(data.get("hide", ()))
        values["devices"] = tuple(data.get("devices", ()))
        return cls(**values)
