"""Playing a trained Blob agent on grids of other sizes, without retraining.

`blob_cnn`'s features are relative to the player: the food's and the enemy's offsets in cells
(`agents.layers.PlayerOffsets` with a fixed `cells` scale) and the 3 x 3 cells around it, so
none of its weights depends on the grid's size. `on_grid` rebuilds such an agent's network for
N x N images with the same weights, its offsets limited to the span of the grid it was trained on
(on a larger grid, food 30 cells away reads as food 9 cells away in the same direction: inputs in
the range the network learned); a network whose weights do depend on the size (the tutorial's
CNN, an MLP over the whole image) is refused with the weight that differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.comparison_report import markdown
from agents.scoring import evaluate_agent, evaluation_seeds
from blobenv.rules import check_size


def on_grid(agent: Any, size: int) -> Any:
    """A copy of `agent` for Blob images of `size` x `size` cells, with the same weights.

    Args:
        agent: An agent whose `get_config()["model"]` is its Keras network as JSON (the DQN).
        size: The grid's side.

    Returns:
        A new agent of the same class and config, its network taking the new image shape.

    Raises:
        ValueError: If the agent has no such network, its input is not an image, or its weights
            depend on the image's size.
    """
    import keras

    from agents.layers import PlayerOffsets

    config = agent.get_config()
    if not isinstance(config.get("model"), str):
        raise ValueError(
            f"{type(agent).__name__} has no Keras network in its config to rebuild for another "
            "grid (the DQN has)"
        )
    network = keras.models.model_from_json(config["model"])
    shape = tuple(network.input_shape)
    if len(shape) != 4:
        raise ValueError(f"the network's input {shape} is not a batch of images (N, H, W, C)")
    span = max(shape[1:3]) - 1

    def clone(layer: Any) -> Any:
        """The layer anew; a cell-scaled `PlayerOffsets` limited to the trained span."""
        options = layer.get_config()
        if isinstance(layer, PlayerOffsets) and layer.cells is not None:
            options["limit"] = min(span, layer.limit or span)
        return type(layer).from_config(options)

    resized = keras.models.clone_model(
        network,
        input_tensors=keras.Input((size, size, shape[-1]), name="observation"),
        clone_function=clone,
    )
    moved = type(agent).from_config({**config, "model": resized.to_json()})
    weights, expected = agent.get_weights(), moved.get_weights()
    for index, (have, need) in enumerate(zip(weights, expected, strict=True)):
        if have.shape != need.shape:
            raise ValueError(
                f"the network's weights depend on the grid size: weight {index} has shape "
                f"{list(have.shape)} on a {shape[1]} x {shape[2]} grid and would need "
                f"{list(need.shape)} on {size} x {size}; only player-relative networks such "
                "as blob_cnn play other sizes"
            )
    moved.set_weights(weights)
    return moved


def evaluate_on_sizes(
    agent: Any, sizes: Sequence[int], episodes: int, env_id: str = "Blob-v0"
) -> list[dict[str, Any]]:
    """Greedy evaluation of `agent` on each grid size, against the exact optimum there.

    Args:
        agent: A trained agent (see `on_grid`).
        sizes: Grid sides (each as `blobenv.rules.check_size` accepts).
        episodes: Evaluation episodes per size, on the fixed evaluation seeds.
        env_id: The Blob id (its other options, e.g. moving blobs, are kept).

    Returns:
        Per size, `size` and `agents.scoring.evaluate_agent`'s figures.
    """
    for size in sizes:
        check_size(size)
    rows = []
    for size in sizes:
        summary = evaluate_agent(
            on_grid(agent, size), env_id, evaluation_seeds(episodes), {"size": int(size)}
        )
        rows.append({"size": int(size), **summary})
    return rows


def transfer_table(rows: Sequence[dict[str, Any]]) -> str:
    """The evaluations as a Markdown table, one row per size."""
    header = ["Grid", "Mean return", "Optimum", "Ratio to optimum", "Success", "Cut at the limit"]
    return markdown(
        header,
        (
            [
                f"{row['size']} x {row['size']}",
                f"{row['mean_return']:.2f}",
                f"{row['optimal_mean_return']:.2f}",
                f"{row['ratio_to_optimum']:.3f}",
                f"{100 * row['success_rate']:.1f}%",
                str(row["episodes_cut"]),
            ]
            for row in rows
        ),
    )
