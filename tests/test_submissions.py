"""Each layout instructors get names the right student, one submission each."""

import os

from grader.submissions import discover, student_of


def touch(path, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def students(tmp_path, *arguments):
    return {s.student: s.path.relative_to(tmp_path).as_posix() for s in discover(list(arguments), "a1")}


def test_one_file_per_student_named_by_id(tmp_path):
    touch(tmp_path / "alice.ipynb"), touch(tmp_path / "bob.ipynb")
    assert students(tmp_path, str(tmp_path)) == {"alice": "alice.ipynb", "bob": "bob.ipynb"}


def test_one_folder_per_student(tmp_path):
    touch(tmp_path / "alice" / "a1.ipynb"), touch(tmp_path / "bob" / "work" / "my_a1.ipynb")
    assert students(tmp_path, str(tmp_path)) == {"alice": "alice/a1.ipynb", "bob": "bob/work/my_a1.ipynb"}


def test_moodle_and_canvas_exports_name_the_student_by_id(tmp_path):
    touch(tmp_path / "Alice Smith_4711_assignsubmission_file_" / "a1.ipynb")
    touch(tmp_path / "jonesbob_LATE_4712_99_a1.ipynb")
    assert students(tmp_path, str(tmp_path)) == {
        "4711": "Alice Smith_4711_assignsubmission_file_/a1.ipynb",
        "jonesbob": "jonesbob_LATE_4712_99_a1.ipynb",
    }


def test_checkpoints_and_hidden_folders_are_not_submissions(tmp_path):
    touch(tmp_path / "alice" / "a1.ipynb")
    touch(tmp_path / "alice" / ".ipynb_checkpoints" / "a1-checkpoint.ipynb")
    touch(tmp_path / ".trash" / "x.ipynb"), touch(tmp_path / "__MACOSX" / "alice" / "a1.ipynb")
    assert students(tmp_path, str(tmp_path)) == {"alice": "alice/a1.ipynb"}


def test_several_notebooks_of_one_student_prefer_the_named_one_then_the_newest(tmp_path):
    touch(tmp_path / "alice" / "a1.ipynb", mtime=1), touch(tmp_path / "alice" / "draft.ipynb", mtime=2)
    touch(tmp_path / "bob" / "old.ipynb", mtime=1), touch(tmp_path / "bob" / "new.ipynb", mtime=2)
    assert students(tmp_path, str(tmp_path)) == {"alice": "alice/a1.ipynb", "bob": "bob/new.ipynb"}


def test_files_given_one_by_one(tmp_path):
    assert student_of(tmp_path / "carol" / "a1.ipynb", "a1") == "carol"
    assert student_of(tmp_path / "dave.ipynb", "a1") == "dave"
    assert students(tmp_path, str(touch(tmp_path / "erin.ipynb"))) == {"erin": "erin.ipynb"}
