"""Grading a set of files with a hidden suite: the options of a batch, one object (``options``);
one pytest session over a stream of submissions (``stream``) with the plugin that runs the suite
(``plugin``); the call the CLI and tests make (``grade``); the reference graded before the first
student (``preflight``); grading processes on this machine (``parallel``) and on Dask
(``distributed`` on the client, ``dask_task`` and ``dask_worker`` on the workers, ``slurm``); a
class and its gradebook (``batch``).
"""
