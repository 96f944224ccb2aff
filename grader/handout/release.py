"""``dlgrade release``: build what students receive for one assignment.

    dlgrade release --assignment a1 handouts/a1

    OUT/
      a1.ipynb                         the student notebook: its first cell installs the student
                                       package, its last cell runs the self-check
      pyproject.toml                   the student package, ``dlgrade-student``: the ``dlgrade``
                                       command, and what the checks and the notebook import
      dlgrade/course/assignments/a1/checks/
                                       the public checks, inside the package, so that a notebook
                                       opened on its own (Colab) finds them once it is installed
      dlgrade/, grader/                what ``check`` and ``ci`` import, and nothing else
      .github/workflows/dlgrade.yml    the public checks on every push, reported to GitHub Classroom
      README.md                        from zero to a passing check

One command installs it, on Linux, macOS and Windows (``INSTALL``): pip with PyTorch's
CPU index as an extra index, so that Linux gets the CPU build of torch (PyPI's is the
CUDA one, gigabytes), and macOS and Windows the same build PyPI has.

"What ``check`` needs" is computed, not listed: the modules that ``python -m dlgrade``
and the public checks import, followed through ``grader`` (``engine_files``). The
notebook maker (it reads solutions), the gradebook, the LMS importers and the
commands that run hidden suites stay behind. ``reference/``, ``suites/`` and
``source/`` are never read into the bundle.

The bundle is built in a hidden folder next to OUT and scanned for secrets
(``leaks.py``) before it is moved into place: a bundle that leaks is never written.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import click
import nbformat

from grader.commands import DlgradeCommand, course_option
from grader.course import course_file
from grader.course.layout import Course
from grader.errors import DlgradeError
from grader.handout.leaks import Leak, Secrets, course_secrets, scan
from grader.sandbox.child.magics import neutralise_magics

TEMPLATES = Path(__file__).with_name("templates")
WORKFLOW = Path(".github") / "workflows" / "dlgrade.yml"
ENGINE_PACKAGES = ("grader", "dlgrade")
SCRIPT_FOLDERS = ("grader/sandbox/child",)  # run as scripts by path (worker.py, zygote.py): shipped whole
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
DISTRIBUTION = "dlgrade-student"
INSTALL = f"python -m pip install --extra-index-url {CPU_INDEX} ."
BUNDLED_COURSE = Path("dlgrade") / "course"  # the checks' course, inside the package (selfcheck.py)
SELF_CHECK = "\n".join(
    [
        "# Self-check: the public checks on what you have run so far (not your grade).",
        "import dlgrade",
        'dlgrade.check("{assignment}")',
    ]
)


class LeakError(DlgradeError):
    """The bundle would hold course secrets; ``leaks`` says where."""

    def __init__(self, leaks: list[Leak]):
        shown = "\n".join(f"  {leak}" for leak in leaks[:20])
        more = f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else ""
        super().__init__(f"the bundle would leak course secrets; nothing was written:\n{shown}{more}")
        self.leaks = leaks


def release(*, course: Course, assignment: str, out: str | Path) -> Path:
    """Build the student bundle of ``assignment`` in ``out`` (new, or an empty folder)."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DlgradeError(f"{out} exists and is not an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        build(staging, course=course, assignment=assignment)
        leaks = scan(staging, secrets_for(course, assignment))
        if leaks:
            raise LeakError(leaks)
        if out.exists():
            out.rmdir()
        staging.chmod(0o755)  # mkdtemp made it private
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def secrets_for(course: Course, assignment: str) -> Secrets:
    """What the bundle of ``assignment`` must not hold. The public checks and the engine
    are shipped on purpose: a hidden-suite line they also hold is no secret."""
    checks = course.suite_dir(assignment, "public")
    public = [*public_check_files(checks), *(source for source, _ in engine_files(checks))]
    return course_secrets(course, assignment, public=public)


def build(folder: Path, *, course: Course, assignment: str) -> None:
    """Write the bundle of ``assignment`` into ``folder``."""
    checks = course.suite_dir(assignment, "public")
    source = student_notebook(course, assignment)
    policy = course_file.load_course(course.root, missing_ok=True)
    url = policy.release_url.replace("{assignment}", assignment)
    notebook = write_notebook(source, folder, assignment, install_cell(url))
    bundled_checks = folder / BUNDLED_COURSE / "assignments" / assignment / "checks"
    copy_files(public_check_files(checks), checks, bundled_checks)
    engine = engine_files(checks)
    for path, relative in engine:
        _copy(path, folder / relative)
    requirements = _requirements([path for path, _ in engine]) + notebook_requirements(source)
    values = {
        "ASSIGNMENT": assignment,
        "NOTEBOOK": notebook,
        "INSTALL": INSTALL,
        "CPU_INDEX": CPU_INDEX,
        "DISTRIBUTION": DISTRIBUTION,
        "VERSION": f"{_version()}+{assignment}",
        "DEPENDENCIES": _toml_list(sorted(set(requirements), key=str.lower)),
        "PACKAGES": _toml_list(_packages(relative for _, relative in engine)),
        "URL_NOTE": _url_note(url),
    }
    _render("release-pyproject.toml", folder / "pyproject.toml", values)
    _render("release-workflow.yml", folder / WORKFLOW, values)
    _render("release-README.md", folder / "README.md", values)


# ---------------------------------------------------------------- the notebook


def student_notebook(course: Course, assignment: str) -> Path:
    """The course's student notebook of ``assignment`` (made by ``dlgrade assign``)."""
    folder = course.root / "assignments" / assignment
    notebooks = sorted(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise DlgradeError(f"expected one student notebook in {folder}, found {len(notebooks)}")
    return notebooks[0]


def write_notebook(path: Path, folder: Path, assignment: str, first_cell: str = "") -> str:
    """Write the released notebook into ``folder``: outputs cleared, the assignment in its
    metadata, ``first_cell`` (the install cell) first, and a last cell that runs the
    self-check. Returns its file name."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.setdefault("dlgrade", {})["assignment"] = assignment
    if first_cell:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    if not any("dlgrade.check(" in cell.source for cell in notebook.cells if cell.cell_type == "code"):
        notebook.cells.append(nbformat.v4.new_code_cell(SELF_CHECK.format(assignment=assignment)))
    nbformat.write(notebook, str(folder / path.name))
    return path.name


def install_cell(url: str) -> str:
    """The notebook's first cell: install the student package where ``import dlgrade``
    finds nothing (Colab, a fresh kernel), from the course's handout URL; without one,
    from the notebook's folder, which is the bundle. The grader skips it (an ``if`` that
    calls something is not a definition)."""
    target = f'"{DISTRIBUTION} @ {url}"' if url else "."
    where = "from the course's handout" if url else "from this folder (the handout you downloaded)"
    return "\n".join(
        [
            "# Setup: run this cell first. It installs dlgrade, which checks your work (the last cell),",
            f"# {where}, with the CPU build of PyTorch. Works in Jupyter, VS Code and Colab.",
            "import importlib.util",
            'if importlib.util.find_spec("dlgrade") is None:',
            f"    %pip install --quiet --extra-index-url {CPU_INDEX} {target}",
            "    importlib.invalidate_caches()  # so that the next cell's import sees it",
        ]
    )


def _url_note(url: str) -> str:
    if url:
        return f"In Colab, or any notebook opened on its own, the first cell installs it from `{url}`."
    return (
        "The first cell installs it from the notebook's folder; in Colab, upload the whole folder "
        "first (the course has no handout URL: `[release] url` in its course.toml)."
    )


def notebook_requirements(path: Path) -> list[str]:
    """The distributions the notebook's code imports (scikit-learn for ``sklearn``), so that
    Run All works after the install. A module no installed distribution provides is an
    error: the release would install a notebook that cannot run."""
    distributions = importlib.metadata.packages_distributions()
    declared = _declared_requirements()
    lines = []
    for module in sorted(_notebook_imports(path) - set(sys.stdlib_module_names) - set(ENGINE_PACKAGES)):
        names = distributions.get(module)
        if not names:
            raise DlgradeError(
                f"{path.name} imports {module}, which no installed package provides: "
                "install it, so that the release can name it for students"
            )
        lines += [declared.get(_key(name), name) for name in names]
    return lines


def _notebook_imports(path: Path) -> set[str]:
    notebook = nbformat.read(str(path), as_version=4)
    modules: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source, _ = neutralise_magics(cell.source)
        try:
            tree = ast.parse(source or "")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


# ---------------------------------------------------------------- the engine


def engine_files(checks: Path) -> list[tuple[Path, Path]]:
    """(source, path in the bundle) of every module ``python -m dlgrade`` and the public
    checks import from ``grader`` and ``dlgrade``, followed import by import."""
    roots = {name: _package_folder(name) for name in ENGINE_PACKAGES}
    top = roots["grader"].parent
    shipped = {*roots["dlgrade"].glob("*.py"), *(p for f in SCRIPT_FOLDERS for p in (top / f).glob("*.py"))}
    files, todo = {p.resolve() for p in shipped}, [*shipped, *checks.glob("*.py")]
    while todo:
        path = todo.pop()
        for module in _imported_modules(path):
            found = _module_file(module, roots)
            if found and found not in files:
                files.add(found)
                todo.append(found)
    files |= {init for path in list(files) for init in _package_inits(path, top)}
    files |= set((roots["grader"] / "results" / "schema").glob("*.json"))
    return sorted((f, f.relative_to(top)) for f in files)


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DlgradeError(f"cannot find the {name} package to ship")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports anywhere (lazy imports too), with each ``from A import
    b`` also as ``A.b``, which may be a submodule."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def _module_file(module: str, roots: dict[str, Path]) -> Path | None:
    package, *rest = module.split(".")
    if package not in roots:
        return None
    base = roots[package].joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _package_inits(path: Path, top: Path) -> list[Path]:
    folders = [folder for folder in path.parents if folder.is_relative_to(top) and folder != top]
    return [folder / "__init__.py" for folder in folders if (folder / "__init__.py").is_file()]


def _requirements(files: Iterable[Path]) -> list[str]:
    """The distributions the shipped modules import at module level (a lazy import is an
    option, not a requirement), as dlgrade itself requires them."""
    declared = _declared_requirements()
    distributions = importlib.metadata.packages_distributions()
    names: set[str] = set()
    for path in files:
        for top in _top_level_imports(path) - set(sys.stdlib_module_names) - set(ENGINE_PACKAGES):
            names |= set(distributions.get(top, []))
    return sorted({declared.get(_key(name), name) for name in names}, key=str.lower)


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    siblings = {p.stem for p in path.parent.glob("*.py")}  # worker.py's ``import wire``
    return names - siblings


def _declared_requirements() -> dict[str, str]:
    """dlgrade's own requirement lines without markers, by normalised name."""
    try:
        lines = importlib.metadata.requires("dlgrade") or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    return {_key(line): line for line in lines if ";" not in line}


def _version() -> str:
    try:
        return importlib.metadata.version("dlgrade")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _packages(relatives: Iterable[Path]) -> list[str]:
    """The import packages among the shipped files, for the bundle's pyproject.toml."""
    return sorted({".".join(path.parent.parts) for path in relatives if path.name == "__init__.py"})


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def _key(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# ---------------------------------------------------------------- files


def public_check_files(checks: Path) -> list[Path]:
    """The checks and any data they read; no caches."""
    files = (p for p in checks.rglob("*") if p.is_file())
    return sorted(p for p in files if not any(part.startswith((".", "__pycache__")) for part in p.parts[-2:]))


def copy_files(paths: Iterable[Path], base: Path, target: Path) -> None:
    for path in paths:
        _copy(path, target / path.relative_to(base))


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _render(template: str, target: Path, values: dict[str, str]) -> None:
    text = (TEMPLATES / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


# ---------------------------------------------------------------- the command


@click.command("release", cls=DlgradeCommand)
@click.option("--assignment", "-a", required=True, help="Assignment id, e.g. a1.")
@course_option()
@click.argument("out", type=click.Path(file_okay=True))
def release_command(assignment: str, course: Course, out: str) -> None:
    """Build the student bundle of an assignment in OUT: the notebook, the public checks,
    what checking needs and a CI workflow; never a reference or a hidden suite."""
    path = release(course=course, assignment=assignment, out=out)
    click.echo(f"wrote the {assignment} bundle to {path}")
    click.echo("scanned every file in it: no reference, hidden-suite or solution code")
    if not course_file.load_course(course.root, missing_ok=True).release_url:  # as build() reads it
        click.echo(
            "note: course.toml has no [release] url, so the notebook's first cell installs dlgrade "
            "from the notebook's folder: a notebook opened on its own (Colab) cannot install it"
        )
