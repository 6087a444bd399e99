"""Train an agent on Blob or any Gymnasium env with Discrete or Box actions.

    python scripts/train_blob.py                       # the default DQN on Blob-v0
    python scripts/train_blob.py --agent qlearning     # tabular Q-learning on Blob's coords
    python scripts/train_blob.py --agent ppo           # PPO on Blob's pixels
    python scripts/train_blob.py --env-id CartPole-v1 --network mlp --steps 50000
    python scripts/train_blob.py --env-id Pendulum-v1  # DDPG (or --agent td3, naf, ppo)

A run (`agents.training.train`) shows a progress bar, logs to TensorBoard in a new run dir
`<logdir>/<agent>-<env>-<time>`, keeps the weights that do best on validation episodes of their
own seeds, checkpoints the whole training state every `--checkpoint-interval` env steps, saves
the agent (`agents.load_agent(path)` loads it back), evaluates it greedily on seeded episodes,
prints the mean return, the success rate and the ratio to the exact optimum (Blob), and
writes `results.json`. `--resume RUN_DIR` continues a run from its newest checkpoint. Ctrl+C or
SIGTERM saves a checkpoint and the agent, then exits 130 or 143.

Every default is the preset of `--env-id` (`agents.presets`, shown here for Blob-v0) or a field of
`agents.run_config.RunConfig`; every field is an option.
"""

import sys

from agents import cli

if __name__ == "__main__":
    sys.exit(cli.main(description="\n\n".join(__doc__.split("\n\n")[:2])))
