"""Grade a1 notebooks with cold workers and print {student: [score, max_score]} as one JSON line.

    python dlgrade_cold.py COURSE_ROOT NOTEBOOK...

The ``dlgrade`` command always forks warm workers where it can; this goes through
``grader.grading.grade.grade(warm=False)`` so the comparison can also show what grading
costs where warm workers are not available (no root, or no bubblewrap).
"""

import json
import sys
from pathlib import Path

from grader.course.layout import Course
from grader.grading.grade import grade


def main(root: str, notebooks: list[str]) -> None:
    results = grade(notebooks, assignment="a1", course=Course(Path(root)), warm=False)
    bad = [r for r in results if r.status != "graded"]
    if bad:
        raise SystemExit(f"not graded: {[(r.submission, r.status, r.message) for r in bad]}")
    print(json.dumps({Path(r.submission).stem: [r.score, r.max_score] for r in results}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
