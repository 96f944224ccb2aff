"""Self-checks: `dlgrade check NOTEBOOK` in a terminal, `dlgrade.check()` in a notebook."""

import json
import shutil
import textwrap

import pytest
from click.testing import CliRunner
from support import COURSE

import dlgrade
from grader.errors import DlgradeError
from grader.selfcheck.check import assignment_of, check_command, find_course, guess_assignment
from grader.selfcheck.check_descriptions import describe

# ---------------------------------------------------------------- reading the checks (no worker)


def test_a_check_is_about_the_functions_it_calls_and_its_docstring_is_the_hint(tmp_path):
    (tmp_path / "test_x_public.py").write_text(
        textwrap.dedent('''
        def test_relu_and_leaky_relu(student):
            """relu(0) is 0; leaky_relu keeps a slope of alpha below 0."""
            student.relu(z), student.leaky_relu(z, alpha=0.5)

        def test_sgd_step(student):
            opt = student.keep("SGD", [student.put(p)], lr=0.1)
            opt.call("step")

        def test_no_autograd(student):
            assert_no_autograd(student, "dense_backward")
    ''')
    )
    checks = describe(tmp_path)
    relu = checks["test_relu_and_leaky_relu"]
    assert relu.functions == ("relu", "leaky_relu")
    assert relu.hint == "relu(0) is 0; leaky_relu keeps a slope of alpha below 0."
    assert checks["test_sgd_step"].functions == ("SGD",)  # put and keep are the fixture's own
    assert checks["test_no_autograd"].functions == ("dense_backward",)


def test_the_course_public_checks_each_name_a_function(course):
    for assignment in ["a1", "a2", "a3", "a4", "a5"]:
        checks = describe(course.suite_dir(assignment, "public"))
        assert checks and all(info.functions for info in checks.values()), assignment


def test_the_assignment_comes_from_metadata_or_the_file_name(tmp_path):
    notebook = tmp_path / "homework.ipynb"
    notebook.write_text(json.dumps({"metadata": {"dlgrade": {"assignment": "a4"}}, "cells": []}))
    assert assignment_of(notebook) == "a4"
    assert assignment_of(tmp_path / "a12_alice.ipynb") == "a12"
    assert assignment_of(tmp_path / "homework.py") is None


def test_a_kernel_s_assignment_is_the_one_whose_checked_functions_it_defines(course):
    a1 = {"weighted_sum", "sign", "sigmoid", "perceptron_predict", "perceptron_fit"}
    assert guess_assignment(course, a1 | {"torch", "x"}) == "a1"
    with pytest.raises(DlgradeError, match=r"dlgrade.check\('a1'\)"):
        guess_assignment(course, {"torch"})


def test_a_bundle_with_one_assignment_needs_no_guess(tmp_path):
    shutil.copytree(COURSE / "assignments" / "a2" / "checks", tmp_path / "assignments" / "a2" / "checks")
    (tmp_path / "work").mkdir()
    bundle = find_course(tmp_path / "work")
    assert bundle.root == tmp_path.resolve()
    assert guess_assignment(bundle, set()) == "a2"


@pytest.mark.parametrize("assignment", ["a1", "a2", "a3", "a4", "a5"])
def test_every_public_check_says_what_it_looked_at_and_which_function_to_look_at(assignment):
    checks = describe(COURSE / "assignments" / assignment / "checks")
    assert checks
    for info in checks.values():
        assert len(info.hint) > 40, f"{info.name} has no docstring, so a failure gets a generic hint"
        assert any(name in info.hint for name in info.functions), (
            f"{info.name}'s docstring names none of the functions it checks ({', '.join(info.functions)})"
        )


# ---------------------------------------------------------------- running them (sandboxed workers)


def test_check_outside_a_notebook_says_what_to_run_instead():
    with pytest.raises(RuntimeError, match="dlgrade check NOTEBOOK"):
        dlgrade.check("a1")


def test_an_unknown_assignment_cannot_be_checked_exit_code_2(tmp_path):
    shutil.copytree(COURSE / "assignments" / "a1", tmp_path / "assignments" / "a1")
    notebook = tmp_path / "assignments" / "a1" / "a1.ipynb"
    run = CliRunner().invoke(check_command, ["--assignment", "a9", "--course", str(tmp_path), str(notebook)])
    assert run.exit_code == 2 and "no public suite for assignment 'a9'" in run.output
