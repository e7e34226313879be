"""Gymnasium adapter for the robot arm: goal-conditioned reach, push and pick-and-place (HER-ready)."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from deep_arena.envs.arm import tasks
from deep_arena.envs.arm.render import ArmRenderer
from deep_arena.envs.arm.sim import EE_STEP, JOINT_STEP, N_ARM, ArmSim
from deep_arena.envs.validation import check_options, check_seed

CONTROLS = ("ee", "joint")
BLOCKED_GAP = 0.01  # finger gap (m) held when the gripper is blocked
# Where options["object_xy"] may put the cube: on the table, within the arm's reach.
OBJECT_XY_LOW = np.array([0.1, -0.4])
OBJECT_XY_HIGH = np.array([0.7, 0.4])
ROBOT_OBS = 8   # grip point position (3), its velocity (3), finger gap, finger gap velocity
OBJECT_OBS = 16  # cube position (3), cube − grip point (3), cube quaternion (4), linear (3) and angular (3) velocity


class ArmEnv(gym.Env):
    """A 7-joint arm with a parallel gripper on a table (MuJoCo): move the grip point or the cube to a goal.

    ## Description
    The arm stands on a table (top at z = 0.4 m) with its base at x = y = 0; the workspace lies in front of it
    (+x). Tasks: `"reach"` (put the grip point, the point between the finger pads, at the goal; the cube is taken out of the scene),
    `"push"` (slide
    the 5 cm cube to a goal on the table) and `"pick_and_place"` (put the cube at a goal that is on the table or,
    half the time, up to 25 cm above it: the cube has to be grasped and lifted). Contacts between cube, fingers,
    hand, arm and table are simulated; a grasp holds the cube by friction. Control is at 25 Hz: each `step()` runs
    `substeps` MuJoCo steps (default 10 × 0.004 s; `timestep=0.002, substeps=20` gives Fetch's integration).

    ## Action space
    `Box(-1, 1, (k,), float32)`. Out-of-range components are clipped to [-1, 1]; NaN or infinite ones raise
    `ValueError`.

    | control         | components                                      | effect of a component = 1                  |
    |-----------------|-------------------------------------------------|--------------------------------------------|
    | `"ee"` (default) | dx, dy, dz [, gripper]                          | grip-point target moves 0.05 m (per step)  |
    | `"joint"`       | dq1 … dq7 [, gripper]                           | joint target moves 0.1 rad (per step)      |

    The gripper component is absent when `block_gripper=True` (the default for reach, whose fingers stay 1 cm apart);
    −1 closes the fingers (squeezing whatever they hold), +1 opens them fully (9 cm), values between set the
    opening in proportion. In `"ee"` mode a damped-least-squares IK step per control step turns the displacement
    into joint-servo targets and keeps the hand pointing straight down; targets are clipped to a box above the
    table (z ≥ 0.42) and to the joint limits.

    ## Observation space
    `Dict` of `float32` arrays:

    | key              | shape                 | content                                                     |
    |------------------|-----------------------|-------------------------------------------------------------|
    | `observation`    | (8,) reach, (24,) else | see below                                                  |
    | `achieved_goal`  | (3,)                  | grip point (reach) or cube centre (push, pick_and_place)    |
    | `desired_goal`   | (3,)                  | the goal                                                    |

    | `observation` index | content                                                                     |
    |---------------------|-----------------------------------------------------------------------------|
    | 0 – 2               | grip point position (m, world frame)                                        |
    | 3 – 5               | grip point velocity (m/s)                                                   |
    | 6, 7                | gap between the finger pads (m) and its rate of change (m/s)                |
    | 8 – 10              | cube position (push, pick_and_place only, as are the rows below)            |
    | 11 – 13             | cube position − grip point position                                         |
    | 14 – 17             | cube orientation quaternion (w, x, y, z), sign chosen so that w ≥ 0         |
    | 18 – 20             | cube linear velocity (world frame)                                          |
    | 21 – 23             | cube angular velocity (cube frame)                                          |

    ## Rewards
    `d` = distance between achieved and desired goal (m); success when `d ≤ 0.05`.

    | `reward_type`     | reward per step           |
    |-------------------|---------------------------|
    | `"sparse"` (default) | `-(d > 0.05)`: 0 on success, −1 otherwise |
    | `"dense"`         | `-d`                      |

    `compute_reward(achieved_goal, desired_goal, info)` gives the same numbers for single goals or batches
    (`(N, 3)` → `(N,)`; `info` is ignored, so a list or array of dicts is fine): SB3's `HerReplayBuffer` uses it.

    ## Episode end
    Never `terminated`: reaching the goal does not end the episode, the `TimeLimit` wrapper made by `gym.make`
    truncates it after 50 steps (as Fetch does). The task has no terminal state (the agent must keep the goal
    achieved), and a truncation lets value-based learners with HER bootstrap from the last state instead of
    treating it as terminal. An episode is also truncated, with `info["physics_error"]`, if the simulation blows
    up (MuJoCo reports a bad position, velocity or acceleration, or the state is not finite); the last valid
    observation is returned then, never a NaN one. Call `reset()` after either.

    ## Reset options
    | key          | value                                                                                  |
    |--------------|----------------------------------------------------------------------------------------|
    | `"goal"`     | a 3-vector inside `[goal_low, goal_high]`: the episode's goal instead of a sampled one  |
    | `"object_xy"`| (push, pick_and_place) the cube's initial (x, y), inside `[0.1, 0.7] × [-0.4, 0.4]`    |

    Bad values raise `ValueError` naming the problem, as do an unknown key and a negative seed (a seed that is not
    an integer, or options that are not a dict, raise `TypeError`). Without them the cube's (x, y) is uniform in
    `[0.25, 0.55] × [-0.15, 0.15]` (at least 10 cm from the gripper) and the goal uniform in the goal space,
    redrawn while it is within 5 cm of the achieved goal at reset; pick-and-place goals lie on the table half the
    time. All randomness comes from `self.np_random`: the same seed gives bit-identical observations.

    ## Arguments
    | argument        | default      | meaning                                                                  |
    |-----------------|--------------|--------------------------------------------------------------------------|
    | `task`          | `"reach"`    | `"reach"`, `"push"` or `"pick_and_place"` (set by the registered ids)    |
    | `reward_type`   | `"sparse"`   | `"sparse"` or `"dense"`                                                  |
    | `control`       | `"ee"`       | `"ee"` (Cartesian grip-point displacement) or `"joint"` (joint targets)  |
    | `goal_space`    | `"default"`  | `"default"`, `"wide"` (larger box for curricula such as a Goal GAN) or a `(low, high)` pair inside the wide box |
    | `block_gripper` | task default | True: fingers stay closed and the action has no gripper component        |
    | `render_mode`   | None         | `"human"` (pygame window) or `"rgb_array"`                               |
    | `width`, `height` | 480, 480   | frame size                                                               |
    | `timestep`, `substeps` | 0.004, 10 | MuJoCo step and steps per control step                             |

    Goal spaces (m): reach default x∈[0.25, 0.55], y∈[−0.15, 0.15], z∈[0.45, 0.70]; push on the table
    (z = 0.425) over the same x, y; pick_and_place z∈[0.425, 0.675]. "wide": x∈[0.15, 0.65], y∈[−0.3, 0.3] and up
    to z = 0.80 (reach) / 0.775 (pick_and_place). The box in use is `goal_low`, `goal_high`.

    ## Info
    `is_success` (bool, `d ≤ 0.05`), `distance` (`d`), and `physics_error` (str) when the simulation blew up.

    ## Version history
    * v0: initial release.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 25}

    def __init__(self, task: str = "reach", reward_type: str = "sparse", control: str = "ee",
                 goal_space: Any = "default", block_gripper: bool | None = None, render_mode: str | None = None,
                 width: int = 480, height: int = 480, timestep: float = 0.004, substeps: int = 10):
        self.task_spec = tasks.get_task(task)
        self.task = self.task_spec.name
        if reward_type not in tasks.REWARD_TYPES:
            raise ValueError(f"reward_type must be one of {tasks.REWARD_TYPES}, got {reward_type!r}")
        if control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS}, got {control!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, "
                             f"got {render_mode!r}")
        if int(width) != width or int(height) != height or width < 64 or height < 64:
            raise ValueError(f"width and height must be integers >= 64, got {width!r}, {height!r}")
        self.reward_type = reward_type
        self.control = control
        self.block_gripper = self.task_spec.default_block_gripper if block_gripper is None else bool(block_gripper)
        self.goal_low, self.goal_high = tasks.resolve_goal_space(self.task_spec, goal_space)
        self.distance_threshold = tasks.DISTANCE_THRESHOLD
        self.render_mode = render_mode
        self.width, self.height = int(width), int(height)
        self.sim = ArmSim(timestep=timestep, substeps=substeps)
        if not self.task_spec.has_object:
            self.sim.remove_cube()

        n_move = 3 if control == "ee" else N_ARM
        self._n_move = n_move
        self._act_dim = n_move + (0 if self.block_gripper else 1)
        self._act_shape = (self._act_dim,)
        self.action_space = spaces.Box(-1.0, 1.0, (self._act_dim,), dtype=np.float32)
        self._obs_dim = ROBOT_OBS + (OBJECT_OBS if self.task_spec.has_object else 0)
        goal_box = spaces.Box(-np.inf, np.inf, (3,), dtype=np.float32)
        self.observation_space = spaces.Dict({
            "observation": spaces.Box(-np.inf, np.inf, (self._obs_dim,), dtype=np.float32),
            "achieved_goal": goal_box,
            "desired_goal": goal_box,
        })
        self.goal = np.zeros(3)
        self._goal32 = np.zeros(3, dtype=np.float32)
        self._last_obs: dict[str, np.ndarray] | None = None
        self._elapsed = 0
        self._distance = 0.0
        self._ended = False
        self._physics_error: str | None = None
        self._renderer = None  # envs.arm.render.ArmRenderer, made on the first render()

    # -- Gymnasium API ---------------------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = check_seed(seed)
        options = check_options(options, ("goal", "object_xy"), type(self).__name__)
        super().reset(seed=seed)
        spec, sim, rng = self.task_spec, self.sim, self.np_random
        cube_xy = None
        if spec.has_object:
            if options.get("object_xy") is not None:
                cube_xy = _check_object_xy(options["object_xy"])
            else:
                cube_xy = tasks.sample_object_xy(spec, rng, sim.home_ee_xy)
        elif options.get("object_xy") is not None:
            raise ValueError("options['object_xy'] applies to push and pick_and_place; reach has no cube to place")
        sim.reset(cube_xy=cube_xy)
        if self.block_gripper:
            sim.hold_fingers(BLOCKED_GAP)
        if options.get("goal") is not None:
            goal = tasks.check_goal(options["goal"], self.goal_low, self.goal_high)
        else:
            start = sim.cube_pos if spec.has_object else sim.ee_pos
            goal = tasks.sample_goal(spec, rng, self.goal_low, self.goal_high, start.copy())
        self.goal = goal
        self._goal32 = goal.astype(np.float32)
        sim.set_goal_marker(goal)
        self._elapsed = 0
        self._ended = False
        self._physics_error = None
        obs = self._observe()
        self._last_obs = obs
        self._distance = _distance(obs["achieved_goal"], obs["desired_goal"])
        if self.render_mode == "human":
            self.render()
        return obs, self._info()

    def step(self, action):
        if self._last_obs is None:
            raise RuntimeError("reset() must be called before step()")
        if self._ended:
            raise RuntimeError("step() called after the simulation blew up (info['physics_error']); call reset()")
        a = self._check_action(action)
        sim = self.sim
        if self.control == "ee":
            sim.set_ee_action(a[:3] * EE_STEP)
        else:
            sim.set_joint_action(a[:N_ARM] * JOINT_STEP)
        if not self.block_gripper:
            sim.set_gripper(a[-1])
        error = sim.step()
        self._elapsed += 1
        if error is None:
            obs = self._observe()
            if not math.isfinite(obs["observation"].sum()):
                error = "non-finite observation"
        if error is not None:
            self._ended = True
            self._physics_error = error
            obs = {k: v.copy() for k, v in self._last_obs.items()}
        self._last_obs = obs
        d = _distance(obs["achieved_goal"], obs["desired_goal"])
        self._distance = d
        if self.reward_type == "sparse":
            reward = -1.0 if d > self.distance_threshold else 0.0
        else:
            reward = -d
        info = self._info()
        if self.render_mode == "human":
            self.render()
        return obs, reward, False, error is not None, info

    def compute_reward(self, achieved_goal, desired_goal, info=None) -> np.ndarray | float:
        """Reward for achieved/desired goal pairs, vectorised: ``(..., 3)`` → ``(...)`` float64 (a float for a
        single pair). ``info`` is unused (it may be a dict, a list or an array of dicts)."""
        r = tasks.compute_reward(achieved_goal, desired_goal, self.reward_type, self.distance_threshold)
        return float(r) if r.ndim == 0 else r

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; make the env with render_mode='rgb_array' "
                            "or 'human'")
            return None
        if self._last_obs is None:
            raise RuntimeError("reset() must be called before render()")
        if self._renderer is None:
            self._renderer = ArmRenderer(self.sim, self.width, self.height)
        return self._renderer.render(self.render_mode, self._overlay_lines())

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self) -> dict[str, Any]:
        # copy.deepcopy and pickle: the copy gets its own simulation (ArmSim copies its MuJoCo model and data) and
        # no renderer (a GL context cannot be copied; it is made again on the copy's first render()).
        state = self.__dict__.copy()
        state["_renderer"] = None
        return state

    # -- internals -------------------------------------------------------------------------------------------------

    def _check_action(self, action) -> np.ndarray:
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"action must be {self._act_dim} numbers, got {action!r}") from None
        if a.shape != self._act_shape:
            raise ValueError(f"action must have shape ({self._act_dim},), got {a.shape}")
        if not math.isfinite(a.sum()):
            bad = np.flatnonzero(~np.isfinite(a)).tolist()
            raise ValueError(f"action has non-finite components (NaN or inf) at indices {bad}: {a}")
        return np.minimum(np.maximum(a, -1.0), 1.0)

    def _observe(self) -> dict[str, np.ndarray]:
        sim = self.sim
        obs = np.empty(self._obs_dim, dtype=np.float32)
        sim.fill_observation(obs)
        if self.task_spec.has_object:
            achieved = obs[8:11].copy()
        else:
            achieved = obs[0:3].copy()
        return {"observation": obs, "achieved_goal": achieved, "desired_goal": self._goal32.copy()}

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"is_success": self._distance <= self.distance_threshold,
                                "distance": self._distance}
        if self._physics_error is not None:
            info["physics_error"] = self._physics_error
        return info

    def _overlay_lines(self) -> list[str]:
        status = "SUCCESS" if self._distance <= self.distance_threshold else "--"
        lines = [f"{self.task}  step {self._elapsed}",
                 f"distance {self._distance * 100:5.1f} cm  {status}"]
        if self._physics_error:
            lines.append(f"physics error: {self._physics_error}")
        return lines


def _check_object_xy(xy) -> np.ndarray:
    try:
        a = np.array(xy, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"options['object_xy'] must be 2 numbers, got {xy!r}") from None
    if a.shape != (2,) or not np.isfinite(a).all():
        raise ValueError(f"options['object_xy'] must be 2 finite numbers, got {xy!r}")
    if (a < OBJECT_XY_LOW).any() or (a > OBJECT_XY_HIGH).any():
        raise ValueError(f"options['object_xy'] {a} is outside {OBJECT_XY_LOW}..{OBJECT_XY_HIGH}")
    return a


def _distance(achieved: np.ndarray, desired: np.ndarray) -> float:
    """Distance between two float32 3-vectors computed exactly as ``tasks.goal_distance`` does (float64), so that
    step rewards equal ``compute_reward`` on the returned observation bit for bit."""
    a0, a1, a2 = achieved.tolist()
    d0, d1, d2 = desired.tolist()
    x, y, z = a0 - d0, a1 - d1, a2 - d2
    return math.sqrt(x * x + y * y + z * z)
