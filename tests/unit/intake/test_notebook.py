"""Notebook intake reads what students really upload, and names what it cannot read."""

import json

import pytest

from grader.errors import NotebookError
from grader.intake.notebook import read_cells


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def v4(cells, **extra):
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **extra})


def code(source, **extra):
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        **extra,
    }


def test_sources_as_lists_or_strings_and_no_cell_ids(tmp_path):
    path = write(tmp_path, "colab.ipynb", v4([code(["def f():\n", "    return 1\n"]), code("x = 2")]))
    assert read_cells(path) == ["def f():\n    return 1\n", "x = 2"]


def test_markdown_cells_are_ignored(tmp_path):
    cells = [{"cell_type": "markdown", "source": "# hi", "metadata": {}}, code("y = 1")]
    assert read_cells(write(tmp_path, "a.ipynb", v4(cells))) == ["y = 1"]


def test_nbformat_3_is_upgraded(tmp_path):
    old = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": ["def g():\n", "    pass\n"],
                        "language": "python",
                        "outputs": [],
                    }
                ]
            }
        ],
    }
    assert read_cells(write(tmp_path, "old.ipynb", json.dumps(old))) == ["def g():\n    pass\n"]


def test_a_python_file_is_one_cell(tmp_path):
    assert read_cells(write(tmp_path, "sub.py", "def f():\n    return 3\n")) == ["def f():\n    return 3\n"]


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"cells": [', "not valid notebook JSON"),
        ('{"hello": 1}', "not a Jupyter notebook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not text"),
    ],
)
def test_unreadable_files_raise_a_clear_error(tmp_path, content, reason):
    with pytest.raises(NotebookError, match=reason):
        read_cells(write(tmp_path, "bad.ipynb", content))


def test_a_missing_file_is_a_notebook_error(tmp_path):
    with pytest.raises(NotebookError, match="cannot read"):
        read_cells(tmp_path / "nope.ipynb")
