"""RLlib's PPO (PyTorch) on Blob-v0 by its id (its coordinates), for a short budget: its curve.

    pip install "ray[rllib]" torch && python scripts/rllib_blob.py --env-steps 40000

Each line is an RLlib training iteration: env steps sampled so far, RLlib's mean return over its
recent episodes, seconds. On Blob-v0 the random policy averages -198.5, the optimum +21.3
(`agents.distributed.rllib` says which settings RLlib needs and why).
"""

import argparse
import sys

from agents.distributed import rllib

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-id", default="Blob-v0", help="default: %(default)s")
    parser.add_argument("--env-steps", type=int, default=40_000, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args()
    if args.env_steps < 1:
        parser.error(f"--env-steps must be >= 1, got {args.env_steps}")

    try:
        rllib.ppo_curve(
            args.env_id, args.env_steps, args.seed,
            report=lambda point: print(rllib.describe(point), flush=True),
        )  # fmt: skip
    except ModuleNotFoundError as error:
        print(f"rllib_blob.py: error: {error}: pip install 'ray[rllib]' torch", file=sys.stderr)
        sys.exit(1)
