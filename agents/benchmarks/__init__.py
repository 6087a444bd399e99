"""Speed benchmarks of the packages, as `scripts/bench*.py` and `tune_qlearning.py` run them.

- `measure`: result rows, rates measured in alternating rounds, the Markdown table of results.
- `env`: Blob's single and vector env against FrozenLake.
- `tutorial_loop`: the tutorial's DQN loop, the baseline of the DQN's speed.
- `dqn`: `DQNAgent.fit` against the tutorial's loop; the train step with and without XLA.
- `replay`: sampling from replay memories; their size in bytes.
- `logging_overhead`: what the logging callbacks cost `agent.fit`.
- `qlearning_speed`: env steps and seconds for Q-learning to reach a share of Blob's optimum.
- `startup`: interpreter start-up with and without blobenv's gymnasium import hook.
- `suite`, `suite_report`: the classic suite of `bench_suite.py`, ours beside Stable-Baselines3;
  `zoo` holds the RL Zoo's hyperparameters, `sb3_baseline` runs SB3 (it alone imports it).

Importing any of them loads no TensorFlow; the benchmarks that need it import it when they run.
"""
