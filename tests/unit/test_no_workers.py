"""The guard of tests/unit (its conftest): no unit test starts a real worker, even by mistake."""

import multiprocessing

import pytest

from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import Limits
from grader.sandbox.process import WorkerProcess


def _refusal(start) -> BaseException:
    with pytest.raises(BaseException) as caught:
        start()
    return caught.value


STARTS = {
    "cold worker": lambda: WorkerProcess(Limits(), ()),
    "fork server": lambda: ForkServer(()),
    "grading process": lambda: multiprocessing.get_context("spawn").Process(target=print).start(),
}


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_starting_a_worker_fails_loudly_and_no_engine_except_can_swallow_it(start):
    refusal = _refusal(start)
    assert not isinstance(refusal, Exception)
    assert "tests/unit must not start" in str(refusal)


@pytest.fixture(scope="module")
def refusal_in_a_module_fixture():
    return _refusal(lambda: WorkerProcess(Limits(), ()))


def test_module_scoped_fixtures_are_guarded_too(refusal_in_a_module_fixture):
    assert "tests/unit must not start" in str(refusal_in_a_module_fixture)
