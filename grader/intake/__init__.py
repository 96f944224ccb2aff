"""From files to what a worker loads: finding submissions (``submissions``), reading notebooks
(``notebook``) and the handout's graded names and given code (``given_code``). The loading rules
and magics run inside the worker, so they live in ``grader/sandbox/child/``.
"""
