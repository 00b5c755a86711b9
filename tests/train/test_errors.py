"""dlx.train.errors: what a failure is called; here, a Ctrl-C that lands inside an import."""

import os
import signal

import pytest

from dlx import cli
from dlx.train.errors import describe


@pytest.fixture
def ctrl_c_watched(monkeypatch):
    monkeypatch.setattr(cli, "SIGINT_SEEN", [])
    before = signal.getsignal(signal.SIGINT)
    cli.watch_for_ctrl_c()
    yield
    signal.signal(signal.SIGINT, before)


def test_ctrl_c_is_noted_and_still_stops(ctrl_c_watched):
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        signal.sigtimedwait([], 0.1)  # let the handler run here
    assert cli.SIGINT_SEEN == [signal.SIGINT]


def test_after_a_ctrl_c_whatever_a_half_imported_module_raises_is_reported_as_the_stop(monkeypatch):
    half_imported = ImportError("cannot load module more than once per process")
    monkeypatch.setattr(cli, "SIGINT_SEEN", [])
    assert describe(half_imported, [], [])[0] == 1, "without a Ctrl-C it is the error it is"
    monkeypatch.setattr(cli, "SIGINT_SEEN", [signal.SIGINT])
    for error in (half_imported, RecursionError("maximum recursion depth exceeded"), KeyboardInterrupt()):
        assert describe(error, [], []) == (130, "interrupted")
