"""A student's install, end to end: a released bundle installed into a fresh virtual
environment the way its README says, then `dlgrade check` on correct, buggy, untouched and
broken notebooks; then again as on macOS or Windows, without `resource` or bubblewrap.

The environment is made with ``python -m venv --system-site-packages`` under /tmp, so that
torch, numpy and the rest come from this machine's Python instead of being downloaded again;
and PyTorch's CPU index in the README's command is swapped for an empty local folder, since
test machines may not reach download.pytorch.org (every package is already there).
"""

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support import COURSE, ROOT

from grader.course.layout import Course
from grader.handout.release import CPU_INDEX, release

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
SAMPLES = ROOT / "examples" / "submissions" / "a1"
# What a laptop without Linux's parts looks like to dlgrade: no `resource` module (Windows),
# not root, and (through PATH) no bubblewrap. A .pth file runs in every process of the
# environment, the grader's and each worker's alike.
NOT_LINUX_PTH = 'import sys, os; sys.modules["resource"] = None; os.getuid = lambda: 1000\n'


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bundle, venv's bin folder): the a1 bundle, installed as its README says."""
    root = tmp_path_factory.mktemp("student")
    bundle = release(course=Course(COURSE), assignment="a1", out=root / "a1")
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    command = re.search(r"```bash\n(python -m pip install [^\n]*)\n```", (bundle / "README.md").read_text())
    empty_index = root / "empty-index"
    empty_index.mkdir()
    args = command.group(1).replace(CPU_INDEX, empty_index.as_uri()).split()
    bin_folder = venv / ("Scripts" if sys.platform == "win32" else "bin")
    run = subprocess.run(
        [str(bin_folder / "python"), *args[1:]], cwd=bundle, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return bundle, bin_folder


def _notebooks(bundle: Path, folder: Path) -> dict[str, Path]:
    """Each kind of notebook in a folder of its own, away from the bundle: the checks must
    come from the installed package."""
    sources = {
        "correct": SAMPLES / "alice.ipynb",
        "buggy": SAMPLES / "bob.ipynb",
        "untouched": bundle / "a1.ipynb",
        "broken": SAMPLES / "erin.ipynb",
    }
    paths = {}
    for kind, source in sources.items():
        (folder / kind).mkdir(parents=True)
        paths[kind] = Path(shutil.copy(source, folder / kind / "a1.ipynb"))
    return paths


def _check(bin_folder: Path, notebook: Path, path: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_folder / "dlgrade"), "check", notebook.name],
        cwd=notebook.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": path, "HOME": "/tmp"},
    )


def test_the_readme_install_gives_a_dlgrade_command_whose_exit_codes_tell_the_notebooks_apart(
    installed, tmp_path
):
    bundle, bin_folder = installed
    notebooks = _notebooks(bundle, tmp_path)
    path = f"{bin_folder}:/usr/bin:/bin"
    expected = {"correct": 0, "buggy": 1, "untouched": 1, "broken": 2}
    runs = {kind: _check(bin_folder, notebook, path) for kind, notebook in notebooks.items()}
    assert {kind: run.returncode for kind, run in runs.items()} == expected, {
        k: r.stdout + r.stderr for k, r in runs.items()
    }
    assert "6 of 6 public checks passed." in runs["correct"].stdout
    assert "5 of 6 public checks passed. Still to fix: sign." in runs["buggy"].stdout
    assert "0 of 6 public checks passed." in runs["untouched"].stdout


KERNEL = """
import sys
import nbformat
from IPython.core.interactiveshell import InteractiveShell
released, work = (nbformat.read(path, as_version=4) for path in sys.argv[1:3])
shell = InteractiveShell.instance()
first, *_, last = released.cells
cells = [first.source, *(cell.source for cell in work.cells if cell.cell_type == "code"), last.source]
for source in cells:
    result = shell.run_cell(source, store_history=True)  # as a Jupyter kernel does
    if not result.success:
        raise SystemExit(f"a cell failed: {source[:80]!r}")
"""


def test_dlgrade_check_in_a_kernel_with_the_notebook_alone_finds_the_installed_checks(installed, tmp_path):
    """As in Colab or VS Code with a notebook opened on its own: the first cell (dlgrade is
    installed, so it installs nothing), the student's work, then the last cell's check."""
    bundle, bin_folder = installed
    work = Path(shutil.copy(SAMPLES / "alice.ipynb", tmp_path / "my-work.ipynb"))
    run = subprocess.run(
        [str(bin_folder / "python"), "-c", KERNEL, str(bundle / "a1.ipynb"), str(work)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": f"{bin_folder}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "6 of 6 public checks passed." in run.stdout and "hidden tests" in run.stdout


def test_checking_works_without_resource_bubblewrap_or_root_as_on_macos_and_windows(installed, tmp_path):
    bundle, bin_folder = installed
    notebooks = _notebooks(bundle, tmp_path)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(bin_folder.parent)}))
    simulation = site / "zz_dlgrade_not_linux.pth"
    simulation.write_text(NOT_LINUX_PTH)
    try:
        probe = subprocess.run([str(bin_folder / "python"), "-c", "import resource"], capture_output=True)
        assert probe.returncode != 0  # the simulation holds
        correct = _check(bin_folder, notebooks["correct"], str(bin_folder))  # no bwrap on this PATH
        buggy = _check(bin_folder, notebooks["buggy"], str(bin_folder))
    finally:
        simulation.unlink()
    assert correct.returncode == 0, correct.stdout + correct.stderr
    assert "6 of 6 public checks passed." in correct.stdout
    assert buggy.returncode == 1 and "Still to fix: sign." in buggy.stdout, buggy.stdout + buggy.stderr
