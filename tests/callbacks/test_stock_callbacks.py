import csv

import keras

from tests.callbacks.fake_agent import FakeAgent, episode_reward, run

LENGTHS = [5, 7, 4, 6]


def test_csv_logger_gets_one_row_per_episode(tmp_path):
    path = tmp_path / "log.csv"
    run(FakeAgent(), [keras.callbacks.CSVLogger(str(path))], LENGTHS)
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2, 3]
    expected = [episode_reward(e, n) for e, n in enumerate(LENGTHS)]
    assert [float(row["episode_reward"]) for row in rows] == expected


def test_lambda_callback_sees_every_episode_as_an_epoch():
    seen = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["nb_episode_steps"]))
    )
    run(FakeAgent(), [callback], LENGTHS)
    assert seen == list(enumerate(LENGTHS))
