"""Reports from the gradebook: bonus points, student feedback, the class overview (docs/reports.md).

bonus.py       pure arithmetic: lateness, weights, scaling, rounding; every step kept
classbook.py   which submission counts for whom (teams, latest attempts, no submission)
exam.py        the exam CSV, and exam + bonus against the pass mark
feedback.py    what a student may see of hidden tests (visibility), hints, capping
tables.py      CSV rows: the LMS gradebook, the breakdown, per-test outcomes, finals
overview.py    item analysis, problem submissions, per-assignment summaries
charts.py      histogram bins and bar geometry for the inline SVG charts
html.py        renders templates/ (autoescaped jinja2, all extending base.html)
gradescope.py  Gradescope's results.json
writer.py      every report in one call; cli.py is the ``dlgrade report`` command over it
"""
