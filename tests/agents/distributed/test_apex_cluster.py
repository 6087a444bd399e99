"""Ape-X across two Ray nodes (`ray.cluster_utils.Cluster`, both on this machine)."""

import pytest

ray = pytest.importorskip("ray", reason="the [scale] extra (ray) is not installed")

from ray.cluster_utils import Cluster  # noqa: E402

from agents import distributed  # noqa: E402


@pytest.fixture(scope="module")
def two_nodes():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_two_collectors_on_two_nodes_both_feed_the_learner(two_nodes, tmp_path):
    assert sum(node["Alive"] for node in ray.nodes()) == 2
    result = distributed.train(
        "Blob-5x5-v0", steps=2_000, seed=0, workers=2, logdir=str(tmp_path), verbose=False,
        val_episodes=0, eval_episodes=20,
    )  # fmt: skip
    figures = result.results["distributed"]
    # One CPU per node and one per collector: each ran on a node of its own.
    assert all(steps > 0 for steps in figures["env_steps_per_collector"])
    assert result.results["env_steps"] >= 2_000 and not result.interrupted
    assert result.evaluation["episodes"] == 20
    # The cluster is the caller's: the run leaves it running.
    assert ray.is_initialized()
