"""The trusted side of the boundary: one worker per submission (``session``, ``process``,
``forkserver``, ``portable``), the walls it runs behind (``process``' view, ``limits``,
``uids``, ``watchdog``, ``datasets``) and what a hidden test calls (``remote``).

What runs inside a worker is in ``child/``, the only folder of dlgrade its view holds.
"""
