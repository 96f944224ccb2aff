"""Each layout instructors get names the right student, one submission each."""

import hashlib
import os
import shutil
import threading
import tracemalloc

import pytest
from support import COURSE

from grader.course.roster import RosterError
from grader.course.roster import read as read_roster
from grader.errors import NotebookError
from grader.intake.notebook import read_cells
from grader.intake.submissions import content_hash, discover, refusal, student_of


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


def test_without_a_roster_canvas_keeps_its_user_id_and_moodle_never_names_by_participant(tmp_path):
    touch(tmp_path / "Alice Smith_101_assignsubmission_file_" / "a1.ipynb")
    touch(tmp_path / "jonesbob_LATE_4712_99_a1.ipynb")
    assert students(tmp_path, str(tmp_path)) == {
        "Alice Smith": "Alice Smith_101_assignsubmission_file_/a1.ipynb",
        "jonesbob_4712": "jonesbob_LATE_4712_99_a1.ipynb",
    }


ROSTER = """id,name,email,canvas_id
alice,Alice Smith,alice@uni.example,4711
alice2,Alice Smith,alice.smith@uni.example,4713
bob,Bob Jones,bob@uni.example,4712
"""


def roster_of(tmp_path):
    (tmp_path / "students.csv").write_text(ROSTER)
    return read_roster(tmp_path / "students.csv")


def test_canvas_user_ids_keep_two_students_of_the_same_name_apart(tmp_path):
    roster = roster_of(tmp_path)
    touch(tmp_path / "export" / "smithalice_4711_99_a1.ipynb")
    touch(tmp_path / "export" / "smithalice_LATE_4713_98_a1.ipynb")
    found = {s.student: s.path.name for s in discover([str(tmp_path / "export")], "a1", roster)}
    assert found == {"alice": "smithalice_4711_99_a1.ipynb", "alice2": "smithalice_LATE_4713_98_a1.ipynb"}


def test_moodle_participant_numbers_map_to_one_roster_student_in_every_assignment(tmp_path):
    roster = roster_of(tmp_path)
    touch(tmp_path / "a1" / "Bob Jones_101_assignsubmission_file_" / "a1.ipynb")
    touch(tmp_path / "a2" / "Bob Jones_207_assignsubmission_file_" / "a2.ipynb")
    assert [s.student for s in discover([str(tmp_path / "a1")], "a1", roster)] == ["bob"]
    assert [s.student for s in discover([str(tmp_path / "a2")], "a2", roster)] == ["bob"]


def test_moodle_namesakes_are_told_apart_by_the_grading_worksheet(tmp_path):
    roster = roster_of(tmp_path)
    export = tmp_path / "a1"
    touch(export / "Alice Smith_101_assignsubmission_file_" / "a1.ipynb")
    touch(export / "Alice Smith_102_assignsubmission_file_" / "a1.ipynb")
    with pytest.raises(RosterError, match="2 students are named 'Alice Smith'"):
        discover([str(export)], "a1", roster)
    (export / "Grades-DL-a1.csv").write_text(
        "Identifier,Full name,Email address,Status,Grade\n"
        "Participant 101,Alice Smith,alice.smith@uni.example,Submitted,\n"
        "Participant 102,Alice Smith,alice@uni.example,Submitted,\n"
    )
    found = {s.student: s.path.parent.name for s in discover([str(export)], "a1", roster)}
    assert found == {
        "alice2": "Alice Smith_101_assignsubmission_file_",
        "alice": "Alice Smith_102_assignsubmission_file_",
    }


def test_a_submission_not_on_the_roster_is_an_error_naming_the_closest(tmp_path):
    roster = roster_of(tmp_path)
    touch(tmp_path / "subs" / "bobb.ipynb"), touch(tmp_path / "subs" / "alice.ipynb")
    touch(tmp_path / "subs" / "smithzed_9999_1_a1.ipynb")
    with pytest.raises(RosterError) as caught:
        discover([str(tmp_path / "subs")], "a1", roster)
    assert "'bobb' (closest: bob (Bob Jones))" in str(caught.value)
    assert "Canvas user 9999" in str(caught.value) and "alice.ipynb" not in str(caught.value)


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


# --------------------------------------------------------------------------- links and odd files


def test_a_student_folder_that_links_elsewhere_is_listed_as_the_link_and_never_searched(tmp_path):
    solutions = touch(tmp_path / "course" / "source" / "a1" / "a1.ipynb").parent
    given = tmp_path / "submissions"
    touch(given / "alice" / "a1.ipynb")
    (given / "mallory").mkdir(parents=True)
    (given / "mallory" / "a1").symlink_to(solutions)  # inside a student's folder
    (given / "root").symlink_to("/")  # a whole folder: searching it would never end
    (given / "trudy.ipynb").symlink_to(solutions / "a1.ipynb")
    found = students(tmp_path, str(given))
    assert found == {
        "alice": "submissions/alice/a1.ipynb",
        "mallory": "submissions/mallory/a1",
        "root": "submissions/root",
        "trudy": "submissions/trudy.ipynb",
    }
    for student in ("mallory", "root", "trudy"):
        assert "symbolic link" in refusal(tmp_path / found[student])
    assert refusal(tmp_path / found["alice"]) == ""


def test_a_file_beats_a_link_of_the_same_student(tmp_path):
    touch(tmp_path / "bob" / "a1.ipynb", mtime=1)
    (tmp_path / "bob" / "newer.ipynb").symlink_to(tmp_path / "bob" / "a1.ipynb")
    assert students(tmp_path, str(tmp_path)) == {"bob": "bob/a1.ipynb"}


def test_a_fifo_is_refused_and_hashing_it_does_not_wait_for_a_writer(tmp_path):
    fifo = tmp_path / "eve.ipynb"
    os.mkfifo(fifo)
    assert "not a regular file" in refusal(fifo)
    assert "not a regular file" in refusal(tmp_path)
    hashed = []
    reader = threading.Thread(target=lambda: hashed.append(content_hash(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert hashed == [""], "reading a FIFO waits forever: one file would stop the batch"


def test_a_student_id_from_a_hostile_file_name_is_safe(tmp_path):
    touch(tmp_path / os.fsdecode(b"m\xfcller.ipynb"))
    touch(tmp_path / "\x1b]0;title\x07\x1b[2K\rmallory.ipynb")
    assert set(students(tmp_path, str(tmp_path))) == {"m\\xfcller", "\\x1b]0;title\\x07\\x1b[2K\\x0dmallory"}


def test_a_huge_file_is_hashed_and_refused_without_being_held_in_memory(tmp_path):
    huge = tmp_path / "zed.ipynb"
    with open(huge, "wb") as handle:
        handle.truncate(200 * 2**20)  # sparse: 200 MB of zeros, no disk used
    tracemalloc.start()
    try:
        digest = content_hash(huge)
        with pytest.raises(NotebookError, match="larger than 20 MB"):
            read_cells(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest == "72abf2ca8f36943ebe2e49ca3a51d409ca5f0bfcffab6c9d25643c17c32889da"  # sha256 of the zeros
    assert peak < 40 * 2**20, f"{peak / 2**20:.0f} MB held to read a 200 MB file"


def test_hashing_needs_nothing_newer_than_python_3_10(tmp_path, monkeypatch):
    """hashlib.file_digest is new in 3.11: on 3.10 content_hash raised AttributeError
    (mypy, checking for python_version 3.10, found it)."""
    monkeypatch.delattr(hashlib, "file_digest", raising=False)
    path = tmp_path / "ann.ipynb"
    path.write_bytes(bytes(range(256)) * (3 * 2**12 + 1))  # a little over 3 MB: several chunks
    assert content_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_dlgrade_grade_maps_through_the_roster_and_stops_before_grading_an_unknown_name(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    course = tmp_path / "course"
    shutil.copytree(COURSE / "suites" / "a1", course / "suites" / "a1")
    shutil.copytree(COURSE / "reference", course / "reference")
    (course / "students.csv").write_text(ROSTER)
    touch(tmp_path / "subs" / "bobb.ipynb")
    gradebook = tmp_path / "gb.sqlite"
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "--assignment",
            "a1",
            "--course",
            str(course),
            "--gradebook",
            str(gradebook),
            str(tmp_path / "subs"),
        ],
    )
    assert run.exit_code != 0 and "'bobb' (closest: bob (Bob Jones))" in run.output
    assert not gradebook.exists() or b"bobb" not in gradebook.read_bytes()  # nothing was graded
