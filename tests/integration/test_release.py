"""`dlgrade release`: the student bundle, and the scan that keeps every secret out of it."""

import base64
import json
import re
import shutil

import nbformat
import pytest
import yaml
from click.testing import CliRunner
from IPython.core.inputtransformer2 import TransformerManager
from support import COURSE

from grader.course.course_file import tomllib
from grader.course.layout import Course
from grader.errors import DlgradeError
from grader.handout.leaks import scan
from grader.handout.release import LeakError, release, release_command, secrets_for

ASSIGNMENTS = ["a1", "a2", "a3", "a4", "a5"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The a1 bundle of this course, built once."""
    return release(course=Course(COURSE), assignment="a1", out=tmp_path_factory.mktemp("release") / "a1")


@pytest.fixture
def leaky(bundle, tmp_path):
    """A copy of the a1 bundle to break on purpose, and the course's a1 secrets."""
    return shutil.copytree(bundle, tmp_path / "a1"), secrets_for(Course(COURSE), "a1")


# ---------------------------------------------------------------- what students get


def test_the_bundle_holds_the_notebook_the_checks_what_check_needs_and_a_workflow(bundle):
    files = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()}
    assert {
        "a1.ipynb",
        "dlgrade/course/assignments/a1/checks/test_a1_public.py",
        "pyproject.toml",
        "README.md",
        ".github/workflows/dlgrade.yml",
        "dlgrade/__init__.py",
        "dlgrade/__main__.py",
        "grader/selfcheck/check.py",
        "grader/selfcheck/ci.py",
        "grader/sandbox/child/worker.py",
        "grader/testing/compare.py",
    } <= files
    assert not {f.split("/")[0] for f in files} & {"reference", "suites", "source"}
    # what only instructors run stays behind: the notebook maker reads solutions
    assert not files & {
        "grader/handout/assign.py",
        "grader/handout/release.py",
        "grader/handout/leaks.py",
        "grader/cli.py",
        "grader/results/gradebook.py",
        "grader/grading/batch.py",
    }


def _pyproject(bundle):
    return tomllib.loads((bundle / "pyproject.toml").read_text())


def _names(requirements):
    return {re.split(r"[<>=!~ ]", line)[0] for line in requirements}


def test_the_package_depends_on_what_the_shipped_modules_import_and_installs_the_dlgrade_command(bundle):
    project = _pyproject(bundle)["project"]
    assert _names(project["dependencies"]) == {"click", "nbformat", "numpy", "pytest", "torch"}
    assert project["scripts"] == {"dlgrade": "dlgrade.__main__:main"}
    assert "grader.testing" in _pyproject(bundle)["tool"]["setuptools"]["packages"]  # the a1 checks use it


def test_the_package_also_depends_on_what_the_notebook_imports(tmp_path):
    a5 = release(course=Course(COURSE), assignment="a5", out=tmp_path / "a5")
    assert "scikit-learn" in _names(_pyproject(a5)["project"]["dependencies"])  # a5 imports sklearn


def test_a_notebook_import_that_no_installed_package_provides_is_an_error(tmp_path):
    course = _small_course(tmp_path / "course")
    _append_cell(course.root / "assignments/a1/a1.ipynb", "import surely_not_a_module_anyone_has")
    with pytest.raises(DlgradeError, match="imports surely_not_a_module_anyone_has"):
        release(course=course, assignment="a1", out=tmp_path / "out")


def test_install_is_one_pip_command_with_pytorch_s_cpu_index_in_readme_and_workflow(bundle):
    command = "python -m pip install --extra-index-url https://download.pytorch.org/whl/cpu ."
    assert f"```bash\n{command}\n```" in (bundle / "README.md").read_text()
    steps = yaml.safe_load((bundle / ".github/workflows/dlgrade.yml").read_text())["jobs"]
    assert steps["run-autograding-tests"]["steps"][2]["run"] == command


def test_the_readme_walks_from_zero_to_a_passing_check(bundle):
    readme = (bundle / "README.md").read_text()
    for step in (
        "python -m venv .venv",
        "Jupyter",
        "VS Code",
        "Colab",
        "first cell",
        'dlgrade.check("a1")',
        "dlgrade check a1.ipynb",
        "public checks only",
    ):
        assert step in readme


def test_the_notebook_installs_dlgrade_first_and_ends_with_the_self_check(bundle):
    notebook = nbformat.read(str(bundle / "a1.ipynb"), as_version=4)
    first = notebook.cells[0].source
    assert 'if importlib.util.find_spec("dlgrade") is None:' in first
    assert "%pip install --quiet --extra-index-url https://download.pytorch.org/whl/cpu ." in first
    assert notebook.cells[-1].source.endswith('import dlgrade\ndlgrade.check("a1")')
    assert notebook.metadata["dlgrade"]["assignment"] == "a1"
    assert all(not cell.get("outputs") for cell in notebook.cells)


def test_the_first_cell_installs_from_the_course_s_handout_url(tmp_path):
    course = _small_course(tmp_path / "course")
    (course.root / "course.toml").write_text(
        '[release]\nurl = "git+https://github.com/dl/handout-{assignment}"\n'
    )
    out = release(course=course, assignment="a1", out=tmp_path / "out")
    first = nbformat.read(str(out / "a1.ipynb"), as_version=4).cells[0].source
    assert (
        "%pip install --quiet --extra-index-url https://download.pytorch.org/whl/cpu "
        '"dlgrade-student @ git+https://github.com/dl/handout-a1"' in first
    )
    assert "git+https://github.com/dl/handout-a1" in (out / "README.md").read_text()
    # what Jupyter's, VS Code's and Colab's kernels make of it: the magic inside the `if` is a call
    python = TransformerManager().transform_cell(first)
    assert "    get_ipython().run_line_magic('pip', 'install --quiet --extra-index-url" in python
    compile(python, "first cell", "exec")


def test_the_workflow_is_what_github_classroom_s_reporter_needs(bundle):
    workflow = yaml.safe_load((bundle / ".github/workflows/dlgrade.yml").read_text())
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    job = workflow["jobs"]["run-autograding-tests"]  # the job id Classroom looks for
    assert "name" not in job  # a name would rename its check run
    steps = {step.get("id") or step.get("name") or step["uses"]: step for step in job["steps"]}
    assert steps["dlgrade"]["run"] == "dlgrade ci --assignment a1 --junit dlgrade-junit.xml a1.ipynb"
    reporter = steps["Autograding Reporter"]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["if"] == "always()"  # also when a check failed (exit 1)
    # the reporter reads, per runner id R in `runners`, the env var R.upper() + "_RESULTS"
    runners = reporter["with"]["runners"].split(",")
    assert runners == ["dlgrade"]
    assert reporter["env"] == {"DLGRADE_RESULTS": "${{ steps.dlgrade.outputs.result }}"}
    text = (bundle / ".github/workflows/dlgrade.yml").read_text()
    assert "hidden" not in text.replace("the hidden tests that decide the grade never run here", "")


# ---------------------------------------------------------------- the leak scan


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_released_file_holds_reference_suite_or_solution_code(assignment, tmp_path):
    out = release(course=Course(COURSE), assignment=assignment, out=tmp_path / assignment)
    assert scan(out, secrets_for(Course(COURSE), assignment)) == []  # release() scanned too, and agreed


def test_a_copied_reference_file_is_caught(leaky):
    folder, secrets = leaky
    shutil.copy(COURSE / "reference/a1/perceptron.py", folder / "grader" / "helpers.py")
    assert [(leak.path, leak.kind, leak.origin) for leak in scan(folder, secrets)] == [
        ("grader/helpers.py", "file", "reference/a1/perceptron.py")
    ]


def test_a_reference_function_pasted_and_reformatted_is_caught_by_its_body(leaky):
    folder, secrets = leaky
    reformatted = (
        "def perceptron_predict(x, w, b):\n    # my own, honest\n    return   sign( weighted_sum(x, w, b) )\n"
    )
    _append_cell(folder / "a1.ipynb", reformatted)
    origins = {(leak.kind, leak.origin.split(":")[0]) for leak in scan(folder, secrets)}
    assert ("body", "reference/a1/perceptron.py") in origins


def test_the_source_notebook_released_by_mistake_is_caught_line_by_line(leaky):
    folder, secrets = leaky
    shutil.copy(COURSE / "source/a1/a1.ipynb", folder / "a1.ipynb")
    leaks = scan(folder, secrets)
    assert any(leak.kind == "line" and leak.origin.startswith("source/a1/a1.ipynb") for leak in leaks)
    assert any(leak.kind == "line" and leak.origin.startswith("reference/a1/") for leak in leaks)


def test_a_solution_left_in_a_cell_output_is_caught(leaky):
    folder, secrets = leaky
    notebook = json.loads((folder / "a1.ipynb").read_text())
    solution = "        w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)\n"
    notebook["cells"][0].setdefault("outputs", []).append(
        {"output_type": "stream", "name": "stdout", "text": [solution]}
    )
    notebook["cells"][0]["cell_type"] = "code"
    (folder / "a1.ipynb").write_text(json.dumps(notebook, indent=1))
    assert [leak.kind for leak in scan(folder, secrets)] == ["line"]


def test_a_hidden_test_pasted_into_the_public_checks_is_caught(leaky):
    folder, secrets = leaky
    hidden = (COURSE / "suites/a1/test_a1.py").read_text()
    test = hidden[hidden.index("@pytest.mark.points(2)\n@pytest.mark.parametrize") :].split("\n\n\n")[0]
    checks = folder / "dlgrade/course/assignments/a1/checks/test_a1_public.py"
    checks.write_text(checks.read_text() + "\n\n" + test + "\n")
    kinds = {(leak.kind, leak.origin.split(":")[0]) for leak in scan(folder, secrets)}
    assert kinds >= {("line", "suites/a1/test_a1.py"), ("body", "suites/a1/test_a1.py")}


def test_a_secret_folder_name_is_caught(leaky):
    folder, secrets = leaky
    (folder / ".hidden" / "suites").mkdir(parents=True)
    (folder / ".hidden" / "suites" / "notes.txt").write_text("nothing to see\n")
    leaks = scan(folder, secrets)
    assert [(leak.path, leak.kind) for leak in leaks] == [(".hidden/suites/notes.txt", "folder")]


def test_a_bundle_that_would_leak_is_never_written(tmp_path):
    course = _small_course(tmp_path / "course")
    shutil.copy(course.root / "source/a1/a1.ipynb", course.root / "assignments/a1/a1.ipynb")  # solutions!
    with pytest.raises(LeakError, match="reference/a1/perceptron.py"):
        release(course=course, assignment="a1", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["course"]  # no staging folder left behind


# ---------------------------------------------------------------- planted mistakes: each is refused

SIGMOID_SOLUTION = (
    "    e = torch.exp(-z.abs())  # in (0, 1]: never overflows\n"
    "    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
)


@pytest.mark.parametrize("typo", ["## BEGIN SOLUTION", "### BEGIN SOLUTION (sigmoid)", "### begin solution"])
def test_a_mistyped_marker_that_left_the_solution_in_the_notebook_is_refused(tmp_path, typo):
    course = _small_course(tmp_path / "course")
    source = course.root / "source/a1/a1.ipynb"
    _edit_cell(
        source,
        "def sigmoid",
        lambda text: text.replace(
            "    ### BEGIN SOLUTION\n    e = torch.exp", f"    {typo}\n    e = torch.exp"
        ),
    )
    sigmoid = f"def sigmoid(z: Tensor) -> Tensor:\n    {typo}\n{SIGMOID_SOLUTION}    ### END SOLUTION"
    _edit_cell(
        course.root / "assignments/a1/a1.ipynb",
        "def sigmoid",
        lambda text: text[: text.index("def sigmoid")] + sigmoid,
    )  # what a parser that read the typo as text would ship
    leaks = _refused(course, tmp_path)
    assert any(leak.kind == "marker" and typo in leak.text for leak in leaks)
    assert any(leak.kind == "line" and "torch.where(z >= 0" in leak.text for leak in leaks)


def test_an_nbgrader_hidden_tests_region_shipped_in_the_notebook_is_refused(tmp_path):
    course = _small_course(tmp_path / "course")
    hidden = (
        "### BEGIN HIDDEN TESTS\n"
        "assert torch.equal(sign(torch.tensor([-3.0, 0.0, 2.0])), torch.tensor([-1.0, 0.0, 1.0]))\n"
        "### END HIDDEN TESTS"
    )
    for notebook in ("source/a1/a1.ipynb", "assignments/a1/a1.ipynb"):
        _append_cell(course.root / notebook, hidden)
    leaks = _refused(course, tmp_path)
    assert {(leak.kind, leak.origin.split(":")[0]) for leak in leaks} >= {
        ("line", "source/a1/a1.ipynb"),
        ("marker", "a solution or hidden-tests marker"),
    }


def test_a_solution_region_in_a_markdown_cell_shipped_is_refused(tmp_path):
    course = _small_course(tmp_path / "course")
    answer = "Because exp of a large positive z overflows to inf in float32."
    text = f"Why is sigmoid computed from exp(-|z|)?\n### BEGIN SOLUTION\n{answer}\n### END SOLUTION"
    for notebook in ("source/a1/a1.ipynb", "assignments/a1/a1.ipynb"):
        _append_cell(course.root / notebook, text, nbformat.v4.new_markdown_cell)
    leaks = _refused(course, tmp_path)
    assert any(
        leak.kind == "line" and leak.origin.startswith("source/a1/a1.ipynb") and answer in leak.text
        for leak in leaks
    )


def test_reference_code_in_a_base64_image_attachment_is_decoded_and_caught(leaky):
    folder, secrets = leaky
    code = (COURSE / "reference/a1/perceptron.py").read_bytes() + b"\n# padding so the file hash differs\n"
    notebook = nbformat.read(str(folder / "a1.ipynb"), as_version=4)
    cell = nbformat.v4.new_markdown_cell("![diagram](attachment:diagram.png)")
    cell["attachments"] = {"diagram.png": {"image/png": base64.b64encode(code).decode()}}
    notebook.cells.append(cell)
    nbformat.write(notebook, str(folder / "a1.ipynb"))
    leaks = scan(folder, secrets)
    assert leaks and all(leak.encoded and leak.path == "a1.ipynb" for leak in leaks)
    origins = {leak.origin.split(":")[0] for leak in leaks}  # a hidden misconception probe repeats
    assert "reference/a1/perceptron.py" in origins  # some reference lines, so it may be named too
    assert origins <= {"reference/a1/perceptron.py", "suites/a1/misconceptions.py"}
    assert "(in base64)" in str(leaks[0])


def test_reference_code_in_a_base64_output_split_over_lines_is_caught(leaky):
    folder, secrets = leaky
    encoded = base64.encodebytes((COURSE / "reference/a1/perceptron.py").read_bytes()[:-1]).decode()
    notebook = nbformat.read(str(folder / "a1.ipynb"), as_version=4)
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": encoded.splitlines(True)})]
    notebook.cells.append(cell)
    nbformat.write(notebook, str(folder / "a1.ipynb"))
    assert any(leak.encoded and leak.kind == "body" for leak in scan(folder, secrets))


def test_hidden_test_names_and_constants_written_into_the_readme_are_caught(leaky):
    folder, secrets = leaky
    tip = "Tip: test_fit_learning_rate is strict; a5 wants ACCURACY_THRESHOLD, so 0.93, with DIGITS_SEED."
    (folder / "README.md").write_text(tip + "\n")
    found = {leak.origin for leak in scan(folder, secrets) if leak.kind == "token"}
    assert {origin.split(":")[0] for origin in found} == {"suites/a1/test_a1.py", "suites/a5/test_a5.py"}
    assert len(found) == 3  # the test, the threshold (by name and value), the seed
    (folder / "README.md").write_text("Your model must reach 0.93 on the test split.\n")  # the value alone
    assert [leak.kind for leak in scan(folder, secrets)] == ["token"]


def test_the_public_checks_names_are_not_secret(bundle):
    assert scan(bundle, secrets_for(Course(COURSE), "a1")) == []  # their test names are in the bundle


def _refused(course, tmp_path):
    """The leaks that stopped the release of a1, which wrote nothing."""
    with pytest.raises(LeakError) as refused:
        release(course=course, assignment="a1", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return refused.value.leaks


def _edit_cell(path, holding, change):
    notebook = nbformat.read(str(path), as_version=4)
    cell = next(cell for cell in notebook.cells if holding in cell.source)
    cell.source = change(cell.source)
    nbformat.write(notebook, str(path))


# ---------------------------------------------------------------- the command


def test_release_writes_the_bundle_and_refuses_a_folder_in_use(tmp_path):
    course = _small_course(tmp_path / "course")
    args = ["--assignment", "a1", "--course", str(course.root), str(tmp_path / "out")]
    first = CliRunner().invoke(release_command, args)
    assert first.exit_code == 0, first.output
    assert "no reference, hidden-suite or solution code" in first.output
    assert "course.toml has no [release] url" in first.output  # Colab would have nothing to install
    again = CliRunner().invoke(release_command, args)
    assert again.exit_code == 1 and "exists and is not an empty folder" in again.output


def _small_course(root):
    """A course with a1 only, to change without touching this checkout."""
    for part in ("reference/a1", "suites/a1", "source/a1", "assignments/a1"):
        shutil.copytree(COURSE / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    return Course(root)


def _append_cell(path, source, new_cell=nbformat.v4.new_code_cell):
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.append(new_cell(source))
    nbformat.write(notebook, str(path))
