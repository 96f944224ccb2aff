"""The student's side of grading: ``dlgrade check`` (``check``), ``dlgrade ci`` and its JUnit
report (``ci``, ``junit``), and how a public check is described to a student
(``check_descriptions``).
"""
