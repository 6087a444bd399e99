from __future__ import annotations

import json

import numpy as np
import pytest

from agents.schedules import LinearSchedule


def test_linear_schedule_moves_from_start_to_end_then_stays():
    schedule = LinearSchedule(1.0, 0.1, 100)
    assert [schedule(step) for step in (0, 50, 100, 1_000)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    assert schedule(-5) == 1.0


def test_linear_schedule_config_round_trips_through_json():
    schedule = LinearSchedule(np.float32(0.4), 1, np.int64(10))
    config = json.loads(json.dumps(schedule.get_config()))
    assert config == {
        "class_name": "LinearSchedule",
        "config": {"start": 0.4000000059604645, "end": 1.0, "nb_steps": 10},
    }
    assert LinearSchedule.from_config(config) == schedule


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((1.0, 0.0, 0), ValueError, "nb_steps must be >= 1, got 0"),
        ((1.0, 0.0, 2.5), TypeError, "nb_steps must be an int"),
        ((float("nan"), 0.0, 10), ValueError, "start must be finite"),
        (("1", 0.0, 10), TypeError, "start must be a number"),
    ],
)
def test_linear_schedule_rejects_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        LinearSchedule(*args)


def test_from_config_rejects_other_configs():
    with pytest.raises(ValueError, match="expected a LinearSchedule config"):
        LinearSchedule.from_config({"class_name": "CosineSchedule", "config": {}})
