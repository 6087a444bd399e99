"""What the agent sees: an rgb image of the grid or the tutorial's relative coordinates."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from blobenv.rules import CELL_DTYPE

OBS_TYPES = ("rgb", "coords")

FOOD_COLOUR = (0, 255, 0)
ENEMY_COLOUR = (255, 0, 0)
PLAYER_COLOUR = (0, 175, 255)

_FOOD = np.array(FOOD_COLOUR, dtype=np.uint8)
_ENEMY = np.array(ENEMY_COLOUR, dtype=np.uint8)
_PLAYER = np.array(PLAYER_COLOUR, dtype=np.uint8)
_PIXEL = np.dtype("V3")


def check_obs_type(obs_type: object) -> str:
    """Validate an observation type.

    Args:
        obs_type: The requested observation type.

    Returns:
        ``obs_type``, one of :data:`OBS_TYPES`.

    Raises:
        ValueError: ``obs_type`` is not one of :data:`OBS_TYPES`.
    """
    if obs_type not in OBS_TYPES:
        raise ValueError(f"obs_type must be one of {list(OBS_TYPES)}, got {obs_type!r}")
    return obs_type


def observation_space(obs_type: str, size: int) -> spaces.Space:
    """Return the space of one game's observation.

    Args:
        obs_type: ``"rgb"`` or ``"coords"``.
        size: The grid size.

    Returns:
        ``Box(0, 255, (size, size, 3), uint8)`` for ``"rgb"``;
        ``MultiDiscrete([2 * size - 1] * 4)`` for ``"coords"``.
    """
    if check_obs_type(obs_type) == "rgb":
        return spaces.Box(0, 255, (size, size, 3), dtype=np.uint8)
    return spaces.MultiDiscrete([2 * size - 1] * 4)


def rgb_image(
    player: tuple[int, int], food: tuple[int, int], enemy: tuple[int, int], size: int
) -> np.ndarray:
    """Draw one game as :func:`rgb_observations` does, from plain ``(x, y)`` ints.

    The single env's hot path: indexing with Python ints costs a tenth of fancy indexing.

    Args:
        player: The player's ``(x, y)``.
        food: The food's ``(x, y)``.
        enemy: The enemy's ``(x, y)``.
        size: The grid size.

    Returns:
        A fresh ``(size, size, 3)`` uint8 array.
    """
    image = np.zeros((size, size, 3), dtype=np.uint8)
    for (x, y), colour in ((food, _FOOD), (enemy, _ENEMY), (player, _PLAYER)):
        image[y, x] = colour
    return image


def rgb_observations(
    player: np.ndarray, food: np.ndarray, enemy: np.ndarray, size: int
) -> np.ndarray:
    """Draw each game on a black ``size`` x ``size`` image: food, then enemy, then player on top.

    Args:
        player: ``(n, 2)`` ``(x, y)`` cells.
        food: ``(n, 2)`` cells.
        enemy: ``(n, 2)`` cells.
        size: The grid size.

    Returns:
        A fresh ``(n, size, size, 3)`` uint8 array; row = y, column = x.
    """
    n = len(player)
    images = np.zeros((n, size, size, 3), dtype=np.uint8)
    # Seen as one 3-byte void per pixel, the images take a whole pixel per scattered index,
    # several times faster than fancy indexing over (game, y, x, channel).
    pixels = images.reshape(n * size * size, 3).view(_PIXEL).reshape(-1)
    offsets = np.arange(0, n * size * size, size * size)
    for cells, colour in ((food, _FOOD), (enemy, _ENEMY), (player, _PLAYER)):
        pixels[offsets + cells[:, 1] * size + cells[:, 0]] = colour.view(_PIXEL)[0]
    return images


def coords_observations(
    player: np.ndarray, food: np.ndarray, enemy: np.ndarray, size: int
) -> np.ndarray:
    """Return ``(player - food, player - enemy)`` for each game, offset by ``size - 1``.

    Args:
        player: ``(n, 2)`` ``(x, y)`` cells.
        food: ``(n, 2)`` cells.
        enemy: ``(n, 2)`` cells.
        size: The grid size.

    Returns:
        A fresh ``(n, 4)`` int64 array with entries in ``[0, 2 * size - 2]``.
    """
    coords = np.concatenate((player - food, player - enemy), axis=1, dtype=np.int64)
    coords += size - 1
    return coords


def observations(
    obs_type: str, player: np.ndarray, food: np.ndarray, enemy: np.ndarray, size: int
) -> np.ndarray:
    """Return each game's observation of the given type.

    Args:
        obs_type: ``"rgb"`` or ``"coords"``.
        player: ``(n, 2)`` ``(x, y)`` cells.
        food: ``(n, 2)`` cells.
        enemy: ``(n, 2)`` cells.
        size: The grid size.

    Returns:
        ``rgb_observations`` or ``coords_observations`` of the games.
    """
    if obs_type == "rgb":
        return rgb_observations(player, food, enemy, size)
    return coords_observations(player, food, enemy, size)


def positions_from_rgb(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the blobs' cells back from ``rgb_observations`` images (its inverse, for a policy).

    A blob hidden under the one drawn above it is read on that one's cell: the food under the
    enemy (once both move), and, in an ended game's last image, the enemy under the player (the
    food there is read on the enemy's cell, which only that image gets wrong).

    Args:
        images: ``(n, size, size, 3)`` uint8 images, as :func:`rgb_observations` draws them.

    Returns:
        ``(player, food, enemy)``, each ``(n, 2)`` ``(x, y)`` :data:`blobenv.rules.CELL_DTYPE`
        cells.

    Raises:
        ValueError: ``images`` is not such a batch, or an image has no player pixel.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != images.shape[2] or images.shape[3] != 3:
        raise ValueError(f"expected (n, size, size, 3) rgb images, got shape {images.shape}")
    n, size = len(images), images.shape[1]
    pixels = np.ascontiguousarray(images, dtype=np.uint8).reshape(n, size * size, 3)
    pixels = pixels.view(_PIXEL).reshape(n, size * size)
    flat: dict[str, np.ndarray] = {}
    for name, colour, above in (
        ("player", _PLAYER, None),
        ("enemy", _ENEMY, "player"),
        ("food", _FOOD, "enemy"),
    ):
        found = pixels == colour.view(_PIXEL)[0]
        missing = ~found.any(axis=1)
        index = found.argmax(axis=1)
        if above is not None:
            index = np.where(missing, flat[above], index)
        elif missing.any():
            raise ValueError(f"image {int(missing.argmax())} has no {name} pixel {colour.tolist()}")
        flat[name] = index
    return tuple(  # type: ignore[return-value]
        np.stack((flat[name] % size, flat[name] // size), axis=1).astype(CELL_DTYPE)
        for name in ("player", "food", "enemy")
    )
