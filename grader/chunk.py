"""One grading process for a chunk of submissions, started by a Dask task.

    echo '{"assignment": "a1", "paths": [...], "results": "out.jsonl", ...}' | python -m grader.chunk

It reads its request (JSON) on stdin, grades with ``grading.grade_stream`` and appends
one JSON line per finished submission to the results file, so a chunk that dies
half-way still hands back what it finished. Its stdout is not used: a suite may print.
"""

from __future__ import annotations

import json
import sys

from grader.distributed import chunk_options
from grader.errors import SuiteError
from grader.grading import grade_stream
from grader.results import SubmissionResult


def main() -> None:
    request = json.loads(sys.stdin.read())
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
