"""One grading process for a chunk of submissions, started by a Dask task (``dask_task.py``).

    echo '{"options": {"assignment": "a1", ...}, "paths": [...], "results": "out.jsonl"}' \
        | python -m grader.grading.dask_worker

It reads its request (JSON) on stdin, grades with ``stream.grade_stream`` and appends
one JSON line per finished submission to the results file, so a chunk that dies
half-way still hands back what it finished, and the task can pass each line on as it
comes. Its stdout is not used: a suite may print. It dies with the Dask worker that
started it (``PR_SET_PDEATHSIG``): a killed worker leaves no grading behind.
"""

from __future__ import annotations

import json
import sys

from grader.errors import SuiteError
from grader.grading.grade import hidden_paths
from grader.grading.options import GradingOptions
from grader.grading.parallel import die_with_parent
from grader.grading.stream import grade_stream
from grader.results.records import SubmissionResult
from grader.sandbox import forkserver


def chunk_options(request: dict) -> GradingOptions:
    """The options of a chunk, from its JSON request (``GradingOptions.to_plain``), with
    what only this node knows: what to hide here, and whether workers can be warm."""
    options = GradingOptions.from_plain(request["options"])
    hide = (*hidden_paths(options.course, request["paths"]), request["workspace"])
    return options.but(hide=hide, warm=forkserver.available())


def main() -> None:
    request = json.loads(sys.stdin.read())
    if "parent" in request:
        die_with_parent(request["parent"])
    options = chunk_options(request)
    with open(request["results"], "a", encoding="utf-8") as results:

        def write(result: SubmissionResult) -> None:
            results.write(json.dumps(result.to_dict()) + "\n")
            results.flush()

        try:
            grade_stream(request["paths"], options, write)
        except SuiteError as exc:  # the suite is broken: every worker would say so
            results.write(json.dumps({"suite_error": str(exc)}) + "\n")


if __name__ == "__main__":
    main()
