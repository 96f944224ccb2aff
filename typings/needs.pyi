# `import needs` inside the worker, where grader/sandbox/child/ is sys.path[0], is this module.
from grader.sandbox.child.needs import *
