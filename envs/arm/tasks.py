"""Reach, push and pick-and-place: goal spaces, goal sampling, achieved goals and rewards (pure NumPy).

Everything here is vectorised over leading batch dimensions where it makes sense, because Hindsight Experience
Replay recomputes rewards for whole batches of relabelled goals: :func:`compute_reward` takes ``(..., 3)`` arrays
and returns ``(...)``.

Coordinates are the simulation's (metres, z up, table top at z = 0.4, arm base at x = y = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deep_arena.envs.arm.sim import CUBE_HALF, TABLE_Z

DISTANCE_THRESHOLD = 0.05  # success when the achieved goal is within 5 cm of the desired goal
REWARD_TYPES = ("sparse", "dense")
GOAL_SPACES = ("default", "wide")

_ON_TABLE = TABLE_Z + CUBE_HALF  # height of the cube's centre when it rests on the table


@dataclass(frozen=True)
class Task:
    """A task's fixed description.

    ``goal_spaces`` maps a goal-space name to its ``(low, high)`` box; ``object_low``/``object_high`` bound the
    cube's initial (x, y); ``air_fraction`` is the share of goals drawn above the table (pick-and-place), the rest
    lying on it.
    """

    name: str
    has_object: bool
    goal_spaces: dict
    object_low: np.ndarray | None = None
    object_high: np.ndarray | None = None
    air_fraction: float = 0.0
    default_block_gripper: bool = False

    def achieved_goal(self, ee_pos: np.ndarray, cube_pos: np.ndarray) -> np.ndarray:
        """The grip point for reach, the cube's centre otherwise."""
        return cube_pos if self.has_object else ee_pos


def _box(low, high):
    return np.array(low, dtype=np.float64), np.array(high, dtype=np.float64)


TASKS: dict[str, Task] = {
    "reach": Task(
        name="reach", has_object=False, default_block_gripper=True,
        goal_spaces={
            "default": _box((0.25, -0.15, TABLE_Z + 0.05), (0.55, 0.15, TABLE_Z + 0.30)),
            "wide": _box((0.15, -0.30, TABLE_Z + 0.03), (0.65, 0.30, TABLE_Z + 0.40)),
        }),
    "push": Task(
        name="push", has_object=True,
        goal_spaces={
            "default": _box((0.25, -0.15, _ON_TABLE), (0.55, 0.15, _ON_TABLE)),
            "wide": _box((0.15, -0.30, _ON_TABLE), (0.65, 0.30, _ON_TABLE)),
        },
        object_low=np.array([0.25, -0.15]), object_high=np.array([0.55, 0.15])),
    "pick_and_place": Task(
        name="pick_and_place", has_object=True, air_fraction=0.5,
        goal_spaces={
            "default": _box((0.25, -0.15, _ON_TABLE), (0.55, 0.15, _ON_TABLE + 0.25)),
            "wide": _box((0.15, -0.30, _ON_TABLE), (0.65, 0.30, _ON_TABLE + 0.35)),
        },
        object_low=np.array([0.25, -0.15]), object_high=np.array([0.55, 0.15])),
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name]


def resolve_goal_space(task: Task, goal_space) -> tuple[np.ndarray, np.ndarray]:
    """``"default"``, ``"wide"`` or an explicit ``(low, high)`` pair of 3-vectors → float64 ``(low, high)``."""
    if isinstance(goal_space, str):
        if goal_space not in task.goal_spaces:
            raise ValueError(f"goal_space must be one of {GOAL_SPACES} or a (low, high) pair, got {goal_space!r}")
        low, high = task.goal_spaces[goal_space]
        return low.copy(), high.copy()
    try:
        low, high = (np.asarray(b, dtype=np.float64) for b in goal_space)
    except (TypeError, ValueError):
        raise ValueError(f"goal_space must be one of {GOAL_SPACES} or a (low, high) pair of 3-vectors, "
                         f"got {goal_space!r}") from None
    if low.shape != (3,) or high.shape != (3,):
        raise ValueError(f"goal_space bounds must have shape (3,), got {low.shape} and {high.shape}")
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError("goal_space bounds must be finite")
    if (low > high).any():
        raise ValueError(f"goal_space low must be <= high, got low={low} high={high}")
    wide_low, wide_high = task.goal_spaces["wide"]
    if (low < wide_low - 1e-9).any() or (high > wide_high + 1e-9).any():
        raise ValueError(f"goal_space must lie inside the task's 'wide' box {wide_low}..{wide_high} (the arm's "
                         f"reachable workspace), got {low}..{high}")
    return low, high


def goal_distance(achieved_goal: np.ndarray, desired_goal: np.ndarray) -> np.ndarray:
    """Euclidean distance over the last axis; ``(..., 3)`` → ``(...)``."""
    diff = np.asarray(achieved_goal, dtype=np.float64) - np.asarray(desired_goal, dtype=np.float64)
    if diff.shape[-1:] != (3,):
        raise ValueError(f"goals must have 3 components on the last axis, got shape {diff.shape}")
    x, y, z = diff[..., 0], diff[..., 1], diff[..., 2]
    return np.sqrt(x * x + y * y + z * z)  # summed in this order, as the env's per-step distance


def compute_reward(achieved_goal, desired_goal, reward_type: str = "sparse",
                   threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """Sparse: ``-(d > threshold)`` (0 on success, −1 otherwise); dense: ``-d``. Shapes ``(..., 3)`` → ``(...)``,
    float64."""
    d = goal_distance(achieved_goal, desired_goal)
    if reward_type == "sparse":
        return -(d > threshold).astype(np.float64)
    return -d


def sample_object_xy(task: Task, rng: np.random.Generator, ee_xy: np.ndarray) -> np.ndarray:
    """The cube's initial (x, y), uniform in the task's box but at least 10 cm from the gripper's (x, y) so that
    the episode does not start with the cube under the fingers."""
    for _ in range(100):
        xy = rng.uniform(task.object_low, task.object_high)
        if np.linalg.norm(xy - ee_xy) >= 0.1:
            return xy
    return xy


def sample_goal(task: Task, rng: np.random.Generator, low: np.ndarray, high: np.ndarray,
                start: np.ndarray) -> np.ndarray:
    """A goal uniform in ``[low, high]`` (pick-and-place: on the table with probability 1 − ``air_fraction``),
    redrawn (up to 100 times) while it is within the success threshold of ``start`` (the achieved goal at reset),
    so that an episode is not won before it starts."""
    for _ in range(100):
        goal = rng.uniform(low, high)
        if task.air_fraction and rng.uniform() >= task.air_fraction:
            goal[2] = low[2]
        if np.linalg.norm(goal - start) > DISTANCE_THRESHOLD:
            return goal
    return goal


def check_goal(goal, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A goal given through ``reset(options={"goal": ...})``: shape (3,), finite and inside ``[low, high]``
    (within 1e-6), else ValueError naming the problem. Returns a float64 copy."""
    try:
        g = np.array(goal, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"options['goal'] must be a 3-vector of numbers, got {goal!r}") from None
    if g.shape != (3,):
        raise ValueError(f"options['goal'] must have shape (3,), got shape {g.shape}")
    if not np.isfinite(g).all():
        raise ValueError(f"options['goal'] must be finite, got {g}")
    if (g < low - 1e-6).any() or (g > high + 1e-6).any():
        raise ValueError(f"options['goal'] {g} is outside the goal space [{low}, {high}] "
                         f"(make the env with goal_space='wide' or an explicit (low, high) for a larger one)")
    return g
