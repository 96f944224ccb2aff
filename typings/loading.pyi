# `import loading` inside the worker, where grader/sandbox/child/ is sys.path[0], is this module.
from grader.sandbox.child.loading import *
