"""The only code bound into a worker's view (``process.readable_paths``).

These modules run as scripts inside the sandbox (``python -I worker.py``), import each other by
their bare names from this folder, and must not import anything from the trusted side: whatever
sits here a student's code can read. The trusted side imports some of them as
``grader.sandbox.child.NAME`` (``wire``, ``seeding``, ``syscalls``, ``magics``).
"""
