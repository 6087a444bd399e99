import csv
import io
import json
import math

import pytest

from callbacks import FileLogger, TrainEpisodeLogger, TrainIntervalLogger
from tests.callbacks.fake_agent import FakeAgent, episode_reward, run

LENGTHS = [5, 7, 4, 6]


def test_episode_logger_writes_one_line_per_episode():
    stream = io.StringIO()
    logs, _ = run(FakeAgent(warmup=6), [TrainEpisodeLogger(stream)], LENGTHS, nb_steps=22)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(LENGTHS)
    # Episode 0 trained on no step: its NaN metrics are left out.
    assert lines[0] == f"episode 0: step 5/22, reward {episode_reward(0, 5):.2f}, steps 5, eps 0.5"
    loss, mean_q = logs[1]["loss"], logs[1]["mean_q"]
    assert lines[1] == (
        f"episode 1: step 12/22, reward {episode_reward(1, 7):.2f}, steps 7, "
        f"loss {loss:.4g}, mean_q {mean_q:.4g}, eps 0.5"
    )


def test_episode_logger_writes_to_stdout_by_default(capsys):
    run(FakeAgent(), [TrainEpisodeLogger()], [3, 3])
    assert capsys.readouterr().out.count("\n") == 2


def test_interval_logger_shows_a_bar_over_nb_steps_and_a_summary_per_interval():
    out = io.StringIO()
    logs, _ = run(FakeAgent(warmup=0), [TrainIntervalLogger(interval=10, file=out)], LENGTHS,
                  nb_steps=22)  # fmt: skip
    text = out.getvalue()
    summaries = [line for line in text.replace("\r", "\n").splitlines() if ": " in line
                 and line.startswith(("step ", "end"))]  # fmt: skip
    # 22 steps: summaries after steps 10 and 20 (episodes 0-1 and 2), then the last episode.
    assert [line.split(":")[0] for line in summaries] == ["step 10", "step 20", "end"]
    rewards = [episode_reward(e, n) for e, n in enumerate(LENGTHS)]
    assert summaries[0].startswith(
        f"step 10: 1 episodes, reward mean {rewards[0]:.2f} [min {rewards[0]:.2f}, max "
    )
    assert f"2 episodes, reward mean {(rewards[1] + rewards[2]) / 2:.2f}" in summaries[1]
    assert f"loss {(logs[1]['loss'] + logs[2]['loss']) / 2:.4g}" in summaries[1]
    assert "steps/s" in summaries[1]
    # tqdm's own bar: the count out of nb_steps, its rate, and our postfix.
    assert "22/22" in text and "steps/s" in text
    assert "episodes=4" in text and "mean_reward=" in text and "loss=" in text


def test_interval_logger_counts_episodes_for_an_episode_budget():
    out = io.StringIO()
    run(FakeAgent(), [TrainIntervalLogger(interval=100, file=out)], [3, 4, 5], nb_episodes=3)
    assert "3/3" in out.getvalue() and "episodes/s" in out.getvalue()


@pytest.mark.parametrize(
    ("interval", "error"), [(0, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_interval_logger_rejects_bad_intervals(interval, error):
    with pytest.raises(error, match="interval"):
        TrainIntervalLogger(interval=interval)


def test_jsonl_file_logger_writes_one_record_per_episode(tmp_path):
    path = tmp_path / "logs" / "episodes.jsonl"
    logs, _ = run(FakeAgent(warmup=6), [FileLogger(path)], LENGTHS)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["episode"] for r in records] == [0, 1, 2, 3]
    assert [r["episode_reward"] for r in records] == [log["episode_reward"] for log in logs]
    assert records[0]["loss"] is None  # NaN: no training in episode 0
    assert records[2]["loss"] == pytest.approx(logs[2]["loss"])
    assert records[2]["nb_episode_steps"] == 4 and isinstance(records[2]["nb_steps"], int)


def test_file_logger_flushes_every_episode(tmp_path):
    path = tmp_path / "episodes.jsonl"
    logger = FileLogger(path)
    logger.on_train_begin({})
    for episode in range(3):
        logger.on_episode_end(episode, {"episode_reward": float(episode)})
        assert len(path.read_text().splitlines()) == episode + 1


def test_file_logger_appends_across_runs_and_starts_fresh_unless_append(tmp_path):
    path = tmp_path / "episodes.jsonl"
    agent = FakeAgent()
    logger = FileLogger(path)
    run(agent, [logger], [3, 3])
    run(agent, [logger], [3])
    assert [json.loads(line)["episode"] for line in path.read_text().splitlines()] == [0, 1, 2]
    run(agent, [FileLogger(path, append=True)], [3])
    assert len(path.read_text().splitlines()) == 4
    run(agent, [FileLogger(path)], [3])
    assert [json.loads(line)["episode"] for line in path.read_text().splitlines()] == [4]


def test_csv_file_logger_writes_a_header_and_one_row_per_episode(tmp_path):
    path = tmp_path / "episodes.csv"
    logs, _ = run(FakeAgent(warmup=6), [FileLogger(path)], LENGTHS)
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["episode", "episode_reward", "nb_episode_steps", "nb_steps", "loss",
                             "mean_q", "eps"]  # fmt: skip
    assert [int(row["episode"]) for row in rows] == [0, 1, 2, 3]
    assert [float(row["episode_reward"]) for row in rows] == [log["episode_reward"] for log in logs]
    assert rows[0]["loss"] == "" and float(rows[1]["loss"]) == pytest.approx(logs[1]["loss"])


def test_csv_file_logger_widens_the_header_when_a_new_key_appears(tmp_path):
    path = tmp_path / "episodes.csv"
    logger = FileLogger(path)
    logger.on_train_begin({})
    logger.on_episode_end(0, {"episode_reward": 1.0})
    logger.on_episode_end(1, {"episode_reward": 2.0, "loss": 0.5})
    logger.on_episode_end(2, {"loss": 0.25, "episode_reward": 3.0})
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows == [
        {"episode": "0", "episode_reward": "1.0", "loss": ""},
        {"episode": "1", "episode_reward": "2.0", "loss": "0.5"},
        {"episode": "2", "episode_reward": "3.0", "loss": "0.25"},
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["episodes.csv"]  # no temp files left


def test_csv_file_logger_appending_reuses_the_existing_header(tmp_path):
    path = tmp_path / "episodes.csv"
    agent = FakeAgent()
    run(agent, [FileLogger(path)], [3])
    run(agent, [FileLogger(path, append=True)], [3])
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("episode,")


def test_explicit_format_overrides_the_extension(tmp_path):
    path = tmp_path / "episodes.log"
    run(FakeAgent(), [FileLogger(path, format="csv")], [3])
    assert path.read_text().startswith("episode,episode_reward")


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("episodes.txt", {}, "cannot infer the log format"),
        ("episodes.json", {}, r"use a \.jsonl or \.csv extension"),
        ("episodes.csv", {"format": "xml"}, "format must be 'jsonl' or 'csv'"),
    ],
)
def test_file_logger_rejects_unknown_formats(tmp_path, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        FileLogger(tmp_path / name, **kwargs)


def test_file_logger_rejects_a_directory(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        FileLogger(tmp_path / "dir.csv")


def test_jsonl_records_are_strict_json(tmp_path):
    path = tmp_path / "episodes.jsonl"
    logger = FileLogger(path)
    logger.on_train_begin({})
    logger.on_episode_end(0, {"episode_reward": math.inf, "loss": math.nan, "note": "x"})
    assert json.loads(path.read_text()) == {"episode": 0, "episode_reward": None, "loss": None,
                                            "note": "x"}  # fmt: skip
