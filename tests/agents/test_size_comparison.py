"""Agents compared over Blob's grid sizes (`agents.size_comparison`)."""

from __future__ import annotations

import dataclasses

import pytest

from agents.comparison import CompareConfig
from agents.qlearning import MAX_TABLE_ENTRIES, TABLE_ITEMSIZE
from agents.size_comparison import check_sizes, footprint, sized


@pytest.mark.parametrize(("size", "fits"), [(5, True), (20, True), (50, False)])
def test_a_tables_footprint_is_its_coords_states_times_actions_without_allocating(size, fits):
    point = footprint(sized(CompareConfig(agents=("qlearning",)), size), "qlearning")
    entries = (2 * size - 1) ** 4 * 9
    assert point == (entries * TABLE_ITEMSIZE, "table", fits)
    assert (entries <= MAX_TABLE_ENTRIES) == fits


def test_a_networks_footprint_is_its_weights_and_the_same_on_every_grid():
    config = dataclasses.replace(CompareConfig(agents=("dqn",)), settings=(("hidden_units", 16),))
    small, large = (footprint(sized(config, size), "dqn") for size in (5, 50))
    assert small == large and small.kind == "network" and small.fits
    # blob_cnn: 6 offsets + 3 x 3 local cells of 4 channels (3 colours and the grid mask) -> 16
    # -> 16 -> the dueling head (9 advantages + the value).
    parameters = (42 * 16 + 16) + (16 * 16 + 16) + (16 * 10 + 10)
    assert small.footprint_bytes == 4 * parameters


@pytest.mark.parametrize(
    ("config", "sizes", "message"),
    [
        (CompareConfig(env_id="CartPole-v1"), [5], "--sizes needs a Blob env id"),
        (CompareConfig(env_kwargs=(("size", 5),)), [6], "give --size or --sizes, not both"),
        (CompareConfig(), [], "--sizes needs at least one size"),
        (CompareConfig(), [5, 5], "--sizes lists a size twice"),
        (CompareConfig(), [1], "size must be between"),
    ],
)
def test_bad_sizes_are_refused_before_training(config, sizes, message):
    with pytest.raises(ValueError, match=message):
        check_sizes(config, sizes)
