"""What GitHub Classroom's autograding reporter reads from the step outputs, computed the way
its code does (the tests of `dlgrade ci` check what dlgrade writes against it)."""

import base64
import json


# R.upper() + "_RESULTS": base64 of JSON. It sums every test's `score` and each runner's `max_score`
# (a runner without max_score is left out), writes "Points X/Y" and {"totalPoints", "maxPoints"} as
# notices, and fails the job when a runner's status is "fail" or "error". Tests print as passed when
# their status is "pass", with " - line N" where line_no is not 0.
def reporter_reads(runners: str, environment: dict) -> dict:
    """What the reporter computes from the step outputs, as its code does."""
    results = [
        json.loads(base64.b64decode(environment[f"{runner.strip().upper()}_RESULTS"]).decode("utf-8"))
        for runner in runners.split(",")
    ]
    counted = [r for r in results if r.get("max_score")]
    total = sum(test["score"] for r in counted for test in r["tests"])
    possible = sum(r["max_score"] for r in counted)
    return {
        "points": f"Points {total:g}/{possible:g}",
        "failed": any(r["status"] in ("fail", "error") for r in results),
        "tests": [t for r in results for t in r["tests"]],
    }
