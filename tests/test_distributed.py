"""Grading on a Dask cluster gives the verdicts grading here gives, and the gradebook gets them.

CI starts a local Dask cluster (one worker process, two threads): the same code path
as a cluster of many machines, minus the network.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from support import ROOT

from grader.cli import main
from grader.distributed import SchedulerError, grade_on_dask
from grader.gradebook import Gradebook
from grader.grading import grade

distributed = pytest.importorskip("dask.distributed", reason="install dlgrade[dask] to test grading on Dask")
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
SAMPLES = ROOT / "examples" / "submissions" / "a1"
PATHS = [str(SAMPLES / f"{name}.ipynb") for name in ("alice", "bob", "carol", "erin")]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as local:  # fmt: skip
        yield local


def verdicts(results):
    return [(r.submission, r.status, r.sha256, [(t.name, t.outcome) for t in r.tests]) for r in results]


def test_a_dask_worker_gives_the_verdicts_grading_here_gives(cluster, course):
    heard = []
    on_dask = grade_on_dask(PATHS, assignment="a1", course=course, scheduler=cluster.scheduler_address,
                            on_result=heard.append)  # fmt: skip
    here = grade(PATHS, assignment="a1", course=course, workers=1)
    assert verdicts(on_dask) == verdicts(here)
    assert sorted(r.submission for r in heard) == sorted(PATHS)


def test_the_cli_records_what_the_cluster_graded(cluster, tmp_path):
    book = tmp_path / "book.sqlite"
    run = CliRunner().invoke(main, ["grade", "-a", "a1", "--scheduler", cluster.scheduler_address,
                                    "--gradebook", str(book), *PATHS])  # fmt: skip
    assert run.exit_code == 0, run.output
    with Gradebook(book) as gradebook:
        scores = {a.student: (a.result.status, a.result.score) for a in gradebook.attempts("a1")}
    assert scores == {"alice": ("graded", 23), "bob": ("graded", 18), "carol": ("graded", 0),
                      "erin": ("invalid_notebook", 0)}  # fmt: skip


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(SchedulerError, match="cannot reach the Dask scheduler"):
        grade_on_dask(PATHS[:1], assignment="a1", scheduler="tcp://127.0.0.1:9", connect_seconds=2)


def test_a_dask_node_without_the_full_sandbox_says_so_in_every_result(monkeypatch):
    from grader import distributed as module
    from grader.sandbox import process

    monkeypatch.setattr(process, "isolation_warning", lambda: "bubblewrap is not installed")
    data = module._with_isolation_note({"notes": ["cell 2: skipped"]})
    assert data["notes"] == ["cell 2: skipped",
                             "graded on a Dask worker without the full sandbox: bubblewrap is not installed"]
    monkeypatch.setattr(process, "isolation_warning", lambda: None)
    assert module._with_isolation_note({"notes": []}) == {"notes": []}
