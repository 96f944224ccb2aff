"""``dlgrade similarity``: canonical tokens (``canon``, ``tokens``), fingerprints and pair scores
(``fingerprints``), the HTML page (``html``, ``templates/``) and the command (``cli``).
"""
