"""The benchmark's own virtual environment, with nbgrader and otter-grader from PyPI.

The venv sees the system's site-packages, so the notebooks import the same
torch (2.13.0+cpu, a local CPU build) that dlgrade grades with; nothing large is
downloaded. It is made once and reused while it holds the pinned versions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PINS = {"nbgrader": "0.9.6", "otter-grader": "7.0.0"}
TORCH = "2.13.0"  # only ever this version: it is the small local CPU build
REPORTED = ("nbgrader", "otter-grader", "torch", "ipykernel", "jupyter_client", "nbclient", "nbconvert")

VERSIONS = """
import importlib.metadata as m, json
found = {}
for name in %r:
    try:
        found[name] = m.version(name)
    except m.PackageNotFoundError:
        found[name] = None
print(json.dumps(found))
"""


def versions(python: Path) -> dict[str, str | None]:
    """The versions of REPORTED that ``python`` imports (None: not installed)."""
    out = subprocess.run(
        [str(python), "-c", VERSIONS % (REPORTED,)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def ensure(venv: Path) -> dict[str, str | None]:
    """Create ``venv`` if needed, install the pins if missing; the versions it holds."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} (with the system's site-packages, for torch)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    found = versions(python)
    wanted = [f"{name}=={version}" for name, version in PINS.items() if found.get(name) != version]
    if not (found.get("torch") or "").startswith(TORCH):
        wanted.append(f"torch=={TORCH}")
    if wanted:
        print(f"installing {' '.join(wanted)} into {venv}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *wanted], check=True)
        found = versions(python)
    return found
