"""What a verdict is and where it is kept: result records and the results-v1 schema (``records``,
``schema/``), and the SQLite gradebook (``gradebook``).
"""
