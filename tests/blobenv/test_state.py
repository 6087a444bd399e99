"""The Blob envs' full state: saved as JSON mid-episode, restored exactly, damaged ones refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blobenv import BlobEnv, BlobVectorEnv

MOVING = {"size": 5, "moving_food": True, "moving_enemy": True}


def round_trip(state: dict) -> dict:
    return json.loads(json.dumps(state, allow_nan=False))


def test_a_single_env_restored_mid_episode_plays_on_exactly() -> None:
    env = BlobEnv(**MOVING, obs_type="coords")
    env.reset(seed=4)
    env.step(8)
    saved = round_trip(env.get_state())
    actions = np.random.default_rng(0).integers(0, 9, size=200)
    ours = []
    for action in actions:
        ours.append(env.step(int(action)))
        if ours[-1][2]:
            ours.append(env.reset())
    copy = BlobEnv(**MOVING, obs_type="coords")
    copy.set_state(saved)
    theirs = []
    for action in actions:
        theirs.append(copy.step(int(action)))
        if theirs[-1][2]:
            theirs.append(copy.reset())  # later starts come from the restored generator too
    assert len(ours) == len(theirs) > len(actions)  # episodes ended and restarted
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]


def test_a_vector_env_restored_between_an_episode_end_and_its_autoreset_plays_on_exactly() -> None:
    env = BlobVectorEnv(num_envs=6, max_episode_steps=3, **MOVING)
    env.reset(seed=1)
    rng = np.random.default_rng(2)
    while True:
        _, _, terminated, truncated, _ = env.step(rng.integers(0, 9, size=6))
        if (terminated | truncated).any() and not (terminated | truncated).all():
            break
    saved = round_trip(env.get_state())
    assert any(saved["needs_reset"]) and not all(saved["needs_reset"])
    copy = BlobVectorEnv(num_envs=6, max_episode_steps=3, **MOVING)
    copy.set_state(saved)
    for _ in range(20):
        actions = rng.integers(0, 9, size=6)
        for a, b in zip(env.step(actions), copy.step(actions), strict=True):
            if isinstance(a, dict):
                assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
            else:
                np.testing.assert_array_equal(a, b)


def test_a_state_before_the_first_reset_restores_an_unstarted_env() -> None:
    copy = BlobEnv(size=5)
    copy.set_state(round_trip(BlobEnv(size=5).get_state()))
    with pytest.raises(Exception, match="reset"):
        copy.step(0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["settings"].update(size=6), "size"),
        (lambda s: s["settings"].update(moving_enemy=False), "moving_enemy"),
        (lambda s: s["positions"].update(player=[[5, 0]]), "on the grid"),
        (lambda s: s["positions"].update(food=[1, 2, 3]), "integer"),
        (lambda s: s.update(steps=-1), "steps"),
        (lambda s: s.update(steps=True), "steps"),
        (lambda s: s.update(extra=1), "keys"),
        (lambda s: s["np_random"].update(bit_generator="os.system"), "bit generator"),
        (lambda s: s["np_random"]["state"].update(state="x"), "PCG64"),
    ],
)
def test_a_damaged_or_foreign_state_is_refused_before_the_env_changes(change, message) -> None:
    env = BlobEnv(**MOVING)
    env.reset(seed=0)
    saved = round_trip(env.get_state())
    change(saved)
    target = BlobEnv(**MOVING)
    target.reset(seed=9)
    before = target.get_state()
    with pytest.raises(ValueError, match=message):
        target.set_state(saved)
    assert target.get_state() == before


def test_a_vector_state_of_another_width_or_damaged_flags_is_refused() -> None:
    env = BlobVectorEnv(num_envs=3, size=5)
    env.reset(seed=0)
    saved = round_trip(env.get_state())
    with pytest.raises(ValueError, match="num_envs"):
        BlobVectorEnv(num_envs=2, size=5).set_state(saved)
    saved["needs_reset"] = [0, 1, 0]
    with pytest.raises(ValueError, match="needs_reset"):
        BlobVectorEnv(num_envs=3, size=5).set_state(saved)
