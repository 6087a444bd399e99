"""StopOnSignal: the first signal stops `fit` after its step, or at once while nothing trains."""

import os
import signal
from types import SimpleNamespace

import pytest

from callbacks.signals import Interrupted, StopOnSignal


def signalled(training: bool) -> StopOnSignal:
    stop = StopOnSignal()
    stop.set_model(SimpleNamespace(training=training, stop_training=False))
    stop.on_train_begin()
    return stop


def test_a_signal_while_training_sets_stop_training():
    with signalled(training=True) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
    assert stop.model.stop_training and stop.signal_name == "SIGTERM"


def test_a_signal_while_a_validation_runs_inside_fit_interrupts_it_at_once():
    with pytest.raises(Interrupted) as interrupt, signalled(training=False) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
    assert interrupt.value.signum == signal.SIGTERM and stop.exit_status == 143
