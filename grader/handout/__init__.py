"""What students receive: the student notebook (``assign``), the release bundle (``release``,
``templates/``) and the scan that keeps course secrets out of it (``leaks``).
"""
