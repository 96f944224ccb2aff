"""Data sets that libraries bundle, kept out of the worker's view.

a5's accuracy task is built from scikit-learn's digits. A worker may import sklearn,
which belongs to the Python it runs, and so could read the CSV files sklearn ships
and look its test inputs up there. The folders listed here join the paths a worker
must not see (``grading.hidden_paths``), which the sandbox covers with empty folders
(``process._bwrap_view``). Only the data go: ``import sklearn.datasets`` still works.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

BUNDLED = {
    "sklearn": (("datasets", "data"), ("datasets", "images")),  # digits, iris, wine, ...; two images
}
"""Package -> folders inside it that hold data sets."""


def bundled_dataset_folders() -> tuple[str, ...]:
    """The ``BUNDLED`` folders of the packages installed here, found without importing them."""
    found = []
    for package, folders in BUNDLED.items():
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        for root in (spec.submodule_search_locations or []) if spec else []:
            for parts in folders:
                folder = Path(root, *parts).resolve()
                if folder.is_dir():
                    found.append(str(folder))
    return tuple(found)
