"""dlgrade: grade PyTorch notebooks with hidden pytest suites, student code in a sandbox.

One package per step (docs/architecture.md): ``intake`` -> ``grading`` -> ``sandbox``
(``sandbox/child``: the only code a worker sees) -> ``results``; the student's side in
``selfcheck`` and ``handout``; ``similarity``; ``course``; ``testing``, the suite API. ``cli``
is the ``dlgrade`` command; ``errors`` the error tree.
"""
