"""The agents' networks: Q-networks by name (`build`), and actors and critics for Box actions.

Q-networks: Blob's default and the tutorial's (both scale uint8 pixels themselves), an MLP;
`build` makes one by name, as `agents.presets` rows and `train_blob.py --network` name them.
`policy_mlp` is CEM's policy; `actor_mlp` and `critic_mlp` are DDPG's and TD3's pair (a
policy within the action bounds, and Q(s, a) with keras-rl's separate action input);
`naf_networks` NAF's V, L and mu; `actor_critic` PPO's policy and value.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium
import keras
import numpy as np

from agents.layers import ActionBounds, PlayerCentredView, PlayerOffsets

#: NAF's covariance modes: a full lower-triangular L, or its diagonal.
COVARIANCE_MODES = ("full", "diag")
#: The cells of offset that read 1.0 in Blob's features: Blob-v0's span (10 x 10), on every grid.
OFFSET_CELLS = 9


def blob_cnn(
    obs_shape: Sequence[int],
    nb_actions: int,
    hidden_units: int = 128,
    local_radius: int | None = 1,
    offsets: bool = True,
    offset_cells: int | None = OFFSET_CELLS,
    reach: bool = False,
) -> keras.Model:
    """The default Blob Q-network: player-relative features and a small dense head.

    Two views of the image, both relative to the player: the (dx, dy) of every colour's mass
    (`agents.layers.PlayerOffsets`: where the food and the enemy are) and the cells around the
    player (`agents.layers.PlayerCentredView` with `local_radius`: an adjacent enemy, the walls).
    Two hidden layers map them to Q-values; the output layer starts at zero, so no Q-value
    starts out optimistic. Chosen by measurement (see the README's performance section).

    Args:
        obs_shape: The (height, width, channels) image shape.
        nb_actions: Number of discrete actions.
        hidden_units: Width of the two hidden layers.
        local_radius: Cells seen on each side of the player; None for the whole grid.
        offsets: False leaves out the offset features (for ablations).
        offset_cells: The offset that reads 1.0, in cells (`agents.layers.PlayerOffsets`): the
            same on every grid, so that the network plays grids of other sizes; None for the
            grid's own span.
        reach: The local view also shows where each blob can be after one step of its own
            (every colour spread to its 8 neighbours): which of the player's moves end where a
            moving enemy can catch it, or a moving food be caught.

    Returns:
        A Keras model mapping a uint8 image batch to Q-values.
    """
    _check_image_shape(obs_shape)
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    features = blob_features(inputs, local_radius, offsets, offset_cells, reach)
    for _ in range(2):
        features = keras.layers.Dense(hidden_units, activation="relu")(features)
    outputs = keras.layers.Dense(int(nb_actions), kernel_initializer="zeros", name="q_values")(
        features
    )
    return keras.Model(inputs, outputs, name="blob_cnn")


def blob_features(
    images: keras.KerasTensor,
    local_radius: int | None = 1,
    offsets: bool = True,
    offset_cells: int | None = OFFSET_CELLS,
    reach: bool = False,
) -> keras.KerasTensor:
    """Blob's player-relative features of a uint8 image batch, as `blob_cnn` sees them.

    The image scaled to [0, 1], then the cells around the player
    (`agents.layers.PlayerCentredView` with `local_radius`; with `reach`, of the image and of
    its 3 x 3 max-pool, the cells each colour reaches in one step), flattened, after every
    colour's (dx, dy) from the player in units of `offset_cells` cells
    (`agents.layers.PlayerOffsets`) unless `offsets` is False.
    """
    x = keras.layers.Rescaling(1.0 / 255.0)(images)
    seen = x
    if reach:
        spread = keras.layers.MaxPooling2D(pool_size=3, strides=1, padding="same")(x)
        seen = keras.layers.Concatenate()([x, spread])  # the player's channel stays the third
    features = keras.layers.Flatten()(PlayerCentredView(radius=local_radius)(seen))
    if offsets:
        offset_features = PlayerOffsets(cells=offset_cells)(x)
        features = keras.layers.Concatenate()([offset_features, features])
    return features


def tutorial_cnn(obs_shape: Sequence[int], nb_actions: int) -> keras.Model:
    """The tutorial's network: two Conv2D(256) blocks, Dense(64), linear Q-values.

    Args:
        obs_shape: The (height, width, channels) image shape (at least 10x10 for its pooling).
        nb_actions: Number of discrete actions.

    Returns:
        A Keras model mapping a uint8 image batch to Q-values.
    """
    _check_image_shape(obs_shape)
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    for _ in range(2):
        x = keras.layers.Conv2D(256, 3, activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64)(x)
    outputs = keras.layers.Dense(int(nb_actions), name="q_values")(x)
    return keras.Model(inputs, outputs, name="tutorial_cnn")


def mlp(
    obs_shape: Sequence[int],
    nb_actions: int,
    hidden_units: int = 128,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> keras.Model:
    """Two hidden ReLU layers on the flattened observation, for vector envs such as CartPole.

    Its layers start as PyTorch's `nn.Linear` does (`_fan_in_uniform`), random biases included.

    Args:
        obs_shape: The observation shape (flattened by the model).
        nb_actions: Number of discrete actions.
        hidden_units: Width of the two hidden layers.
        bounds: The observation space's (low, high): each entry with finite bounds is scaled
            to [-1, 1] (a `Normalization` layer, saved with the model), the others are left
            as they are. MountainCar's velocity spans ±0.07: unscaled, it barely moves the
            first layer.

    Returns:
        A Keras model mapping an observation batch to Q-values.
    """
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Flatten()(inputs)
    if bounds is not None:
        mean, variance = _bounds_scaling(*bounds)
        x = keras.layers.Normalization(mean=mean, variance=variance, name="bounds_scaling")(x)
    width = int(x.shape[-1])
    for _ in range(2):
        x = keras.layers.Dense(hidden_units, activation="relu", **_fan_in_uniform(width))(x)
        width = hidden_units
    outputs = keras.layers.Dense(int(nb_actions), name="q_values", **_fan_in_uniform(width))(x)
    return keras.Model(inputs, outputs, name="mlp")


def policy_mlp(obs_shape: Sequence[int], nb_actions: int, hidden_units: int = 0) -> keras.Model:
    """Action preferences (a softmax) of the flattened observation: CEM's policy.

    Args:
        obs_shape: The observation shape.
        nb_actions: Number of discrete actions.
        hidden_units: Width of one hidden ReLU layer; 0: linear, as keras-rl's cem_cartpole.

    Returns:
        A Keras model from an observation batch to action probabilities.
    """
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Flatten()(inputs)
    if hidden_units:
        x = keras.layers.Dense(hidden_units, activation="relu")(x)
    outputs = keras.layers.Dense(int(nb_actions), activation="softmax", name="policy")(x)
    return keras.Model(inputs, outputs, name="policy_mlp")


def actor_mlp(
    obs_shape: Sequence[int],
    low: np.ndarray,
    high: np.ndarray,
    hidden_units: Sequence[int] = (400, 300),
) -> keras.Model:
    """A deterministic policy: ReLU layers, then a tanh scaled onto the action bounds.

    Args:
        obs_shape: The observation shape (flattened by the model).
        low: The action space's lower bounds (finite), of the action's shape.
        high: Its upper bounds (finite, above `low`).
        hidden_units: The widths of the hidden layers (the RL Zoo's 400, 300 by default).

    Returns:
        A Keras model from an observation batch to actions of the space's shape.

    Raises:
        ValueError: If the bounds are not finite or low >= high somewhere.
    """
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
        raise ValueError(
            f"an actor needs finite action bounds with low < high, got {low} and {high}"
        )
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x, width = keras.layers.Flatten()(inputs), int(np.prod(obs_shape))
    for units in hidden_units:
        x = keras.layers.Dense(units, activation="relu", **_fan_in_uniform(width))(x)
        width = units
    x = keras.layers.Dense(int(low.size), activation="tanh", **_fan_in_uniform(width))(x)
    x = ActionBounds(low.ravel().tolist(), high.ravel().tolist(), name="action_bounds")(x)
    outputs = keras.layers.Reshape(low.shape, name="action")(x)
    return keras.Model(inputs, outputs, name="actor")


def critic_mlp(
    obs_shape: Sequence[int],
    action_shape: Sequence[int],
    hidden_units: Sequence[int] = (400, 300),
) -> tuple[keras.Model, keras.KerasTensor]:
    """Q(s, a): the flattened observation and action concatenated, ReLU layers, one output.

    Args:
        obs_shape: The observation shape.
        action_shape: The action shape.
        hidden_units: The widths of the hidden layers.

    Returns:
        The model (inputs `[action, observation]`, keras-rl's order) and its action input, the
        `critic_action_input` of `DDPGAgent`.
    """
    action = keras.Input(shape=tuple(action_shape), name="action")
    observation = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Concatenate()(
        [keras.layers.Flatten()(observation), keras.layers.Flatten()(action)]
    )
    width = int(np.prod(obs_shape)) + int(np.prod(action_shape))
    for units in hidden_units:
        x = keras.layers.Dense(units, activation="relu", **_fan_in_uniform(width))(x)
        width = units
    outputs = keras.layers.Dense(1, name="q_value", **_fan_in_uniform(width))(x)
    return keras.Model([action, observation], outputs, name="critic"), action


def entry_count(nb_actions: int, covariance_mode: str = "full") -> int:
    """Outputs the L model needs: n (n + 1) / 2 for "full", n for "diag"."""
    return nb_actions * (nb_actions + 1) // 2 if covariance_mode == "full" else nb_actions


def naf_networks(
    observation_space: gymnasium.spaces.Box,
    action_space: gymnasium.spaces.Box,
    hidden_units: int = 64,
    covariance_mode: str = "full",
) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Three MLPs for a NAFAgent: V, L and mu (two hidden ReLU layers each).

    Each is `agents.networks.mlp` on the observation (finite observation bounds scaled to
    [-1, 1]); mu's output goes through tanh, scaled to the action space's bounds.

    Args:
        observation_space: The env's Box observation space.
        action_space: The env's Box action space, of shape (nb_actions,) with finite bounds.
        hidden_units: Width of every hidden layer.
        covariance_mode: "full" or "diag" (the L model's number of outputs).

    Returns:
        (V_model, L_model, mu_model).

    Raises:
        ValueError: If a space is not such a Box, or the covariance mode is unknown.
    """
    if not isinstance(observation_space, gymnasium.spaces.Box):
        raise ValueError(f"naf_networks needs a Box observation space, got {observation_space}")
    if not isinstance(action_space, gymnasium.spaces.Box) or len(action_space.shape) != 1:
        raise ValueError(f"naf_networks needs a 1-D Box action space, got {action_space}")
    low, high = action_space.low.astype(np.float64), action_space.high.astype(np.float64)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"mu's tanh output needs finite action bounds, got {action_space}")
    if covariance_mode not in COVARIANCE_MODES:
        raise ValueError(
            f"covariance_mode must be one of {COVARIANCE_MODES}, got {covariance_mode!r}"
        )
    nb_actions = action_space.shape[0]
    shape, bounds = observation_space.shape, (observation_space.low, observation_space.high)
    value = _renamed(mlp(shape, 1, hidden_units, bounds), "naf_v")
    lower = _renamed(
        mlp(shape, entry_count(nb_actions, covariance_mode), hidden_units, bounds), "naf_l"
    )
    base = mlp(shape, nb_actions, hidden_units, bounds)
    x = keras.layers.Activation("tanh")(base.outputs[0])
    x = keras.layers.Rescaling(((high - low) / 2).tolist(), ((high + low) / 2).tolist())(x)
    return value, lower, keras.Model(base.inputs, x, name="naf_mu")


def actor_critic(
    observation_space: gymnasium.spaces.Box,
    action_space: gymnasium.spaces.Discrete | gymnasium.spaces.Box,
    hidden_units: int = 64,
    trunk: str = "auto",
) -> keras.Model:
    """PPO's actor-critic: one input, shared features, separate tanh layers for each head.

    The features are the flattened observation (`trunk="flat"`) or Blob's player-relative
    ones (`trunk="blob"`, see `blob_features`; "auto" picks it for image observations, HxWx3).
    On them, as Stable-Baselines3's MLP policy: two hidden layers for the policy and two for
    the value, orthogonally initialised (gain sqrt(2); 0.01 for the policy output, 1 for the
    value).

    Args:
        observation_space: The env's observation space (any fixed shape).
        action_space: Discrete (the policy output is its `n` logits) or a 1-D Box (the
            Gaussian's mean; its log-std is the agent's).
        hidden_units: Width of every hidden layer.
        trunk: "auto", "flat" or "blob".

    Returns:
        A Keras model from observations to `[policy output, value of shape (batch, 1)]`.

    Raises:
        ValueError: If the trunk is unknown, or "blob" is asked of observations no image.
    """
    shape = tuple(observation_space.shape)
    if trunk not in ("auto", "flat", "blob"):
        raise ValueError(f"trunk must be one of auto, flat, blob, got {trunk!r}")
    if trunk == "auto":
        trunk = "blob" if len(shape) == 3 and shape[-1] == 3 else "flat"
    if isinstance(action_space, gymnasium.spaces.Discrete):
        size = int(action_space.n)
    else:
        size = int(np.prod(action_space.shape))
    inputs = keras.Input(shape=shape, name="observation")
    if trunk == "blob":
        _check_image_shape(shape)
        features = blob_features(inputs)
    else:
        features = keras.layers.Flatten()(inputs)
    outputs = []
    for name, units, gain in (("policy", size, 0.01), ("value", 1, 1.0)):
        x = features
        for _ in range(2):
            x = keras.layers.Dense(
                hidden_units, "tanh", kernel_initializer=keras.initializers.Orthogonal(2**0.5)
            )(x)
        init = keras.initializers.Orthogonal(gain)
        outputs.append(keras.layers.Dense(units, kernel_initializer=init, name=name)(x))
    return keras.Model(inputs, outputs, name="actor_critic")


def _renamed(model: keras.Model, name: str) -> keras.Model:
    return keras.Model(model.inputs, model.outputs, name=name)


def _fan_in_uniform(fan_in: int) -> dict[str, keras.initializers.Initializer]:
    """Weights and biases uniform in ±1/sqrt(fan_in), as PyTorch's `nn.Linear` starts.

    Keras' default zero biases put every first-layer ReLU boundary through the origin: on a
    2-d observation (MountainCar's) the features cannot tell near states from far ones.
    """
    bound = 1.0 / float(np.sqrt(max(fan_in, 1)))
    return {
        "kernel_initializer": keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
        "bias_initializer": keras.initializers.RandomUniform(-bound, bound),
    }


def _bounds_scaling(low: np.ndarray, high: np.ndarray) -> tuple[list[float], list[float]]:
    """The mean and variance that map finite [low, high] to [-1, 1], and leave the rest."""
    low = np.asarray(low, dtype=np.float64).ravel()
    high = np.asarray(high, dtype=np.float64).ravel()
    finite = np.isfinite(low) & np.isfinite(high) & (high > low)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = np.where(finite, (low + high) / 2, 0.0)
        half = np.where(finite, (high - low) / 2, 1.0)
    return mean.tolist(), (half**2).tolist()


def build(
    name: str,
    obs_shape: Sequence[int],
    nb_actions: int,
    hidden_units: int = 128,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    reach: bool = False,
) -> keras.Model:
    """The Q-network `name` for observations of `obs_shape`.

    Args:
        name: "blob_cnn", "tutorial_cnn", "mlp", or "auto": the MLP for flat observations, the
            tutorial's (plain) CNN for images.
        obs_shape: The observation shape.
        nb_actions: Number of discrete actions.
        hidden_units: Width of the hidden layers of blob_cnn and mlp.
        bounds: For the mlp: the observation space's (low, high), to scale its finite entries.
        reach: For blob_cnn: also the cells each blob can reach in one step (see `blob_cnn`).

    Raises:
        ValueError: If the name is unknown or the network does not take such observations,
            or `reach` is asked of another network than blob_cnn.
    """
    obs_shape = tuple(obs_shape)
    names = ("auto", "blob_cnn", "tutorial_cnn", "mlp")
    if name not in names:
        raise ValueError(f"network must be one of {', '.join(names)}, got {name!r}")
    if name == "auto":
        name = "tutorial_cnn" if len(obs_shape) == 3 else "mlp"
    if reach and name != "blob_cnn":
        raise ValueError(f"reach is an option of the network blob_cnn, not of {name}")
    if name == "mlp":
        return mlp(obs_shape, nb_actions, hidden_units, bounds)
    if len(obs_shape) != 3:
        raise ValueError(
            f"{name} takes image observations (height, width, channels), the env gives shape "
            f"{obs_shape}: use the network mlp"
        )
    if name == "tutorial_cnn":
        return tutorial_cnn(obs_shape, nb_actions)
    return blob_cnn(obs_shape, nb_actions, hidden_units=hidden_units, reach=reach)


def _check_image_shape(obs_shape: Sequence[int]) -> None:
    if len(obs_shape) != 3 or min(obs_shape) < 1:
        raise ValueError(f"expected an image shape (height, width, channels), got {obs_shape}")
