"""SAC, TD3, TQC (optionally with hindsight experience replay) and PPO on the robot arm (``arena/Arm*-v0``).

:func:`train` builds the env (a ``DummyVecEnv``/``SubprocVecEnv`` of ``n_envs`` copies), the algorithm and, with
``her``, SB3's ``HerReplayBuffer`` (``future`` goals by default), then learns while a callback

* evaluates every ``eval_every`` env steps: ``eval_episodes`` seeded episodes (episode ``i`` resets with seed
  ``eval_seed + i``) with the deterministic policy, logging ``eval/success_rate`` (success at the last step, as
  Fetch and rl-zoo count it), ``eval/mean_return`` and ``eval/mean_final_distance`` to TensorBoard and appending
  them to ``evaluations.npz``; with ``eval_frames`` the first episode is also rendered and a horizontal strip of
  every ``frame_stride``-th frame goes to TensorBoard (``eval/frames``; without OpenGL the env draws its 2-D view,
  and if rendering fails altogether the strip is skipped with a warning);
* checkpoints every ``checkpoint_every`` steps into ``<run>/checkpoints``: ``model_<steps>.zip`` (policy,
  optimizers, step counter) and, for off-policy algorithms, ``replay_buffer_<steps>.pkl`` (only the newest buffer
  is kept: they are large), so that :func:`resume` continues exactly where the checkpoint left off;
* stops early when the optional wall-clock budget ``minutes`` is spent.

At the end ``final_model.zip`` (no replay buffer; what ``evaluate.py arm`` and ``play.py arm`` load) and a last
checkpoint are written. Hyperparameters come from ``agents/hyperparams/<algo>.yml`` keyed by env id; ``model`` is
an open bag of keyword arguments for the algorithm's constructor (``learning_rate``, ``batch_size``,
``policy_kwargs``...).
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from deep_arena.agents.hyperparams import load_hyperparams
from deep_arena.runtime import RunDir, deep_merge, prepare_training, resolve_device
from deep_arena.runtime.legacy_names import legacy_module_names

TASKS = {"reach": "arena/ArmReach-v0", "push": "arena/ArmPush-v0", "pick_and_place": "arena/ArmPickAndPlace-v0"}
ALGOS = ("sac", "tqc", "td3", "ppo")
OFF_POLICY = ("sac", "tqc", "td3")
REWARD_TYPES = ("sparse", "dense")
CURRICULA = (None, "goalgan")
MODEL_RE = re.compile(r"^model_(\d+)\.zip$")
BUFFER_RE = re.compile(r"^replay_buffer_(\d+)\.pkl$")

DEFAULTS: dict[str, Any] = {
    "task": "reach",
    "algo": "tqc",
    "her": False,
    "her_kwargs": {"n_sampled_goal": 4, "goal_selection_strategy": "future"},
    "reward_type": "sparse",
    "control": "ee",
    "env_kwargs": {},           # more ArmEnv arguments (goal_space, timestep, substeps...)
    "total_steps": 20_000,
    "minutes": None,            # optional wall-clock budget on top of total_steps
    "threads": None,            # torch CPU threads; default all cores
    "n_envs": 1,
    "vec_env": "dummy",         # or "subproc"
    "policy": "MultiInputPolicy",
    "action_noise_sigma": None,  # off-policy: Gaussian exploration noise (std, in action units), e.g. for TD3
    "model": {},                # keyword arguments of the algorithm's constructor
    "eval_every": 2_000,
    "eval_episodes": 20,
    "eval_seed": 1_000_000,
    "eval_frames": True,
    "frame_size": 128,
    "frame_stride": 5,
    "checkpoint_every": 10_000,
    "save_replay_buffer": True,
    "curriculum": None,         # None (the env samples goals uniformly) or "goalgan" (built by the script)
    "goalgan": {},              # gan.goalgan.GoalGANConfig fields
    # Expert start (push with SAC/TQC only; agents.arm.expert), all before the first agent step, off by default:
    # demonstrations into the replay buffer, behaviour cloning of the actor, DAgger rounds, critic warm-up with the
    # actor fixed; then optionally a cloning term in the actor loss while RL trains.
    "expert": {
        "episodes": 0,           # scripted expert episodes (into the replay buffer and the cloning set)
        "bc_steps": 0,           # cloning steps (batch 256) after the demonstrations and after each DAgger round
        "dagger_rounds": 0,      # rounds of: the policy plays, the expert labels its states, refit
        "dagger_episodes": 100,  # policy episodes per DAgger round
        "critic_steps": 0,       # critic warm-up steps with the actor and entropy coefficient fixed
        "push_speed": 0.3,       # the expert's speed cap while pushing (action units)
        "seed": 10_000_000,      # reset seed of the first demonstration (then +1 per episode)
        "ent_coef": 0.01,        # starting entropy coefficient (auto ent_coef only): SB3's 1 would wash the
                                 # clone out within a few hundred updates
        "bc_alpha": 0.0,         # > 0: cloning term in the actor loss while RL trains, weight mean|Q|/alpha
                                 # (TD3+BC's alpha is 2.5; smaller holds the actor closer to the expert)
        "q_filter": False,       # count that term only where the critic prefers the expert's action
        "normalise_inputs": True,  # standardise the networks' inputs with the demonstrations' mean and std
    },
    "coverage_per_axis": None,  # test-goal grid per axis for eval/coverage; None: 4 with a curriculum or a
                                # non-default goal_space, else off; 0: off
}


def env_id(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    return TASKS[task]


def default_config(task: str = "reach", algo: str = "tqc") -> dict[str, Any]:
    """DEFAULTS updated with the shipped ``<algo>.yml`` entry for the task's env id."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; choose from {', '.join(ALGOS)}")
    config = deep_merge(copy.deepcopy(DEFAULTS), load_hyperparams(algo, env_id(task)))
    config["task"], config["algo"] = task, algo
    return config


def _positive_int(config: dict[str, Any], key: str, allow_none: bool = False) -> None:
    value = config[key]
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} must be a positive integer, got {value!r}")


def validate_config(config: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first bad value (before any run directory or model is made)."""
    env_id(config["task"])
    if config["algo"] not in ALGOS:
        raise ValueError(f"unknown algorithm {config['algo']!r}; choose from {', '.join(ALGOS)}")
    if not isinstance(config["her"], bool):
        raise ValueError(f"her must be true or false, got {config['her']!r}")
    if config["her"] and config["algo"] not in OFF_POLICY:
        raise ValueError(f"--her needs an off-policy algorithm ({', '.join(OFF_POLICY)}): hindsight relabelling "
                         f"rewrites stored transitions, and {config['algo']} keeps no replay buffer")
    if config["reward_type"] not in REWARD_TYPES:
        raise ValueError(f"reward_type must be one of {REWARD_TYPES}, got {config['reward_type']!r}")
    for key in ("total_steps", "n_envs", "eval_every", "eval_episodes", "checkpoint_every", "frame_size",
                "frame_stride"):
        _positive_int(config, key)
    _positive_int(config, "threads", allow_none=True)
    if config["minutes"] is not None:
        m = config["minutes"]
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not m > 0:
            raise ValueError(f"minutes must be a positive number or null, got {m!r}")
    if config["vec_env"] not in ("dummy", "subproc"):
        raise ValueError(f"vec_env must be 'dummy' or 'subproc', got {config['vec_env']!r}")
    sigma = config["action_noise_sigma"]
    if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma < 0):
        raise ValueError(f"action_noise_sigma must be a non-negative number or null, got {sigma!r}")
    if sigma is not None and config["algo"] == "ppo":
        raise ValueError("action_noise_sigma applies to off-policy algorithms; PPO explores with its own noise")
    if config["curriculum"] not in CURRICULA:
        raise ValueError(f"curriculum must be one of {', '.join(map(str, CURRICULA))}, got {config['curriculum']!r}")
    if config["curriculum"] and config["vec_env"] == "subproc" and config["n_envs"] > 1:
        raise ValueError("a goal curriculum learns from every episode in this process; use vec_env=dummy with it")
    per_axis = config["coverage_per_axis"]
    if per_axis is not None and (isinstance(per_axis, bool) or not isinstance(per_axis, int) or per_axis < 0):
        raise ValueError(f"coverage_per_axis must be an integer >= 0 or null, got {per_axis!r}")
    expert = config["expert"]
    for key in ("episodes", "bc_steps", "critic_steps", "dagger_rounds", "dagger_episodes"):
        value = expert.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"expert.{key} must be an integer >= 0, got {value!r}")
    if expert["dagger_rounds"] and not expert["dagger_episodes"]:
        raise ValueError("expert.dagger_rounds needs expert.dagger_episodes >= 1 (the policy's episodes per round)")
    if expert["episodes"] and (config["task"] != "push" or config["algo"] not in ("sac", "tqc")):
        raise ValueError(f"the expert start has a scripted expert for push and fits a SAC/TQC actor; "
                         f"got task {config['task']!r}, algo {config['algo']!r}")
    if (expert["bc_steps"] or expert["critic_steps"] or expert["bc_alpha"] or expert["dagger_rounds"]) \
            and not expert["episodes"]:
        raise ValueError("expert.bc_steps, dagger_rounds, critic_steps and bc_alpha need expert.episodes > 0 "
                         "(demonstrations)")
    alpha = expert["bc_alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not (alpha >= 0 and np.isfinite(alpha)):
        raise ValueError(f"expert.bc_alpha must be a number >= 0, got {alpha!r}")
    if not isinstance(expert["normalise_inputs"], bool):
        raise ValueError(f"expert.normalise_inputs must be true or false, got {expert['normalise_inputs']!r}")
    if not isinstance(expert["q_filter"], bool):
        raise ValueError(f"expert.q_filter must be true or false, got {expert['q_filter']!r}")
    for key in ("model", "env_kwargs", "her_kwargs", "goalgan"):
        if not isinstance(config[key], dict):
            raise ValueError(f"{key} must be a mapping, got {config[key]!r}")
    # The env's own checks (control, goal_space, ...) run on a throwaway env.
    make_env(config).close()


def _setup_mujoco_gl() -> None:
    """Headless MuJoCo rendering needs ``MUJOCO_GL`` before mujoco is imported; EGL works on Mesa."""
    if "mujoco" not in sys.modules:
        os.environ.setdefault("MUJOCO_GL", "egl")


def make_env(config: dict[str, Any], render_mode: str | None = None, **extra: Any):
    """One ``arena/Arm*-v0`` env (50-step TimeLimit) for ``config``."""
    _setup_mujoco_gl()
    import gymnasium as gym

    import deep_arena.envs  # noqa: F401  (registers arena/* ids)

    kwargs = {"reward_type": config["reward_type"], "control": config["control"], **config["env_kwargs"], **extra}
    return gym.make(env_id(config["task"]), render_mode=render_mode, **kwargs)


def algo_class(algo: str):
    if algo == "tqc":
        from sb3_contrib import TQC

        return TQC
    import stable_baselines3 as sb3

    return {"sac": sb3.SAC, "td3": sb3.TD3, "ppo": sb3.PPO}[algo]


class GoalCurriculumWrapper(gym.Wrapper):
    """Resets each episode with a goal from ``curriculum`` (``reset(options={"goal": curriculum.next_goal()})``)
    and reports the episode's success to it (``curriculum.record(goal, success)``) when the episode ends.

    ``curriculum`` is any object with those two methods (e.g. :class:`gan.goalgan.GoalGANCurriculum`). A goal given
    explicitly in ``reset(options=...)`` wins and is not reported.
    """

    def __init__(self, env, curriculum) -> None:
        super().__init__(env)
        self.curriculum = curriculum
        self._goal: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        options = dict(options or {})
        if options.get("goal") is None:
            self._goal = np.asarray(self.curriculum.next_goal(), dtype=np.float64)
            options["goal"] = self._goal
        else:
            self._goal = None
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if (terminated or truncated) and self._goal is not None:
            self.curriculum.record(self._goal, bool(info.get("is_success", False)))
            self._goal = None
        return obs, reward, terminated, truncated, info


def coverage_per_axis(config: dict[str, Any]) -> int:
    """Grid points per axis for ``eval/coverage`` (0: off); see ``coverage_per_axis`` in DEFAULTS."""
    if config["coverage_per_axis"] is not None:
        return int(config["coverage_per_axis"])
    wide = config["env_kwargs"].get("goal_space", "default") != "default"
    return 4 if (config["curriculum"] or wide) else 0


def coverage_goals(low, high, per_axis: int) -> np.ndarray:
    """A fixed grid of test goals: ``per_axis`` cell centres along every axis of the box ``[low, high]`` that has
    non-zero width (one value along a flat axis, e.g. the table height for push), shape ``(n, 3)``. *Coverage* is
    the fraction of them the deterministic policy reaches (Goal GAN's measure)."""
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    if isinstance(per_axis, bool) or not isinstance(per_axis, (int, np.integer)) or per_axis < 1:
        raise ValueError(f"per_axis must be a positive integer, got {per_axis!r}")
    axes = [lo + (np.arange(per_axis) + 0.5) / per_axis * (hi - lo) if hi > lo else np.array([lo])
            for lo, hi in zip(low, high)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def _make_vec_env(config: dict[str, Any], curriculum=None):
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    def factory():
        env = make_env(config)
        if curriculum is not None:
            env = GoalCurriculumWrapper(env, curriculum)
        return Monitor(env, info_keywords=("is_success",))

    fns = [factory for _ in range(config["n_envs"])]
    if config["vec_env"] == "subproc" and config["n_envs"] > 1:
        return SubprocVecEnv(fns)
    return DummyVecEnv(fns)


def _algo_kwargs(config: dict[str, Any], venv) -> dict[str, Any]:
    kwargs = copy.deepcopy(config["model"])
    if config["her"]:
        from stable_baselines3 import HerReplayBuffer

        kwargs["replay_buffer_class"] = HerReplayBuffer
        kwargs["replay_buffer_kwargs"] = dict(config["her_kwargs"])
    if config["expert"]["episodes"] and config["expert"]["normalise_inputs"]:
        from deep_arena.agents.arm.expert import NormalisedDictExtractor

        kwargs["policy_kwargs"] = {**kwargs.get("policy_kwargs", {}), "features_extractor_class": NormalisedDictExtractor}
    if config["action_noise_sigma"]:
        from stable_baselines3.common.noise import NormalActionNoise

        dim = venv.action_space.shape[0]
        kwargs["action_noise"] = NormalActionNoise(np.zeros(dim), config["action_noise_sigma"] * np.ones(dim))
    return kwargs


# -- evaluation --------------------------------------------------------------------------------------------------


def run_episodes(model, env, episodes: int, seed: int, deterministic: bool = True, frames_of_first: int = 0,
                 progress: bool = False, goals: np.ndarray | None = None) -> dict[str, Any]:
    """Play ``episodes`` episodes (episode ``i`` resets with ``seed + i``, and with ``goals[i]`` as its goal when
    ``goals`` is given: then ``episodes`` may be None and is ``len(goals)``) of ``model`` in ``env``.

    Returns per-episode arrays ``returns``, ``successes`` (``is_success`` at the last step), ``final_distances``
    and ``lengths``, and ``frames``: every ``frames_of_first``-th frame of the first episode (``env`` must then
    render ``rgb_array``; ``[]`` when ``frames_of_first`` is 0 or rendering failed).
    """
    from deep_arena.runtime import progress as progress_bar

    returns, successes, distances, lengths, frames = [], [], [], [], []
    if goals is not None:
        episodes = len(goals)
    for i in progress_bar(range(episodes), desc="episodes", disable=not progress, unit="ep"):
        options = None if goals is None else {"goal": goals[i]}
        obs, info = env.reset(seed=seed + i, options=options)
        record = frames_of_first > 0 and i == 0
        if record:
            record = _grab(env, frames)
        total, steps, done = 0.0, 0, False
        while not done:
            action, _ = model.predict(obs, deterministic=deterministic)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated
            if record and (steps % frames_of_first == 0 or done):
                record = _grab(env, frames)
        returns.append(total)
        successes.append(bool(info.get("is_success", False)))
        distances.append(float(info.get("distance", np.nan)))
        lengths.append(steps)
    return {"returns": np.asarray(returns), "successes": np.asarray(successes),
            "final_distances": np.asarray(distances), "lengths": np.asarray(lengths), "frames": frames}


def _grab(env, frames: list) -> bool:
    """Append a frame of ``env``; on failure warn once and return False (stop recording)."""
    try:
        frame = env.render()
    except Exception as err:  # noqa: BLE001 - a frame strip is never worth a crashed training run
        warnings.warn(f"could not render an evaluation frame ({type(err).__name__}: {err}); no frame strip",
                      stacklevel=2)
        frames.clear()
        return False
    if frame is None:
        frames.clear()
        return False
    frames.append(np.asarray(frame, dtype=np.uint8))
    return True


def frame_strip(frames: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Frames side by side (HWC uint8) with ``gap`` white pixels between them."""
    h = max(f.shape[0] for f in frames)
    parts = []
    for k, f in enumerate(frames):
        if f.shape[0] < h:
            f = np.pad(f, ((0, h - f.shape[0]), (0, 0), (0, 0)))
        parts.append(f)
        if k < len(frames) - 1 and gap:
            parts.append(np.full((h, gap, 3), 255, np.uint8))
    return np.concatenate(parts, axis=1)


# -- training --------------------------------------------------------------------------------------------------


def _checkpoints(run_dir: RunDir, pattern: re.Pattern) -> list[tuple[int, Path]]:
    if not run_dir.checkpoints_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in run_dir.checkpoints_dir.iterdir() if (m := pattern.match(p.name))]
    return sorted(found)


def latest_model_checkpoint(run_dir: RunDir) -> Path | None:
    """The checkpoint to resume from: the newest ``model_*.zip`` that has its replay buffer beside it (a run killed
    between the two saves leaves a model without one), else the newest model."""
    found = _checkpoints(run_dir, MODEL_RE)
    buffers = {steps for steps, _ in _checkpoints(run_dir, BUFFER_RE)}
    with_buffer = [path for steps, path in found if steps in buffers]
    if with_buffer:
        return with_buffer[-1]
    return found[-1][1] if found else None


class _Trainer:
    def __init__(self, config: dict[str, Any], run_dir: RunDir, progress_bar: bool, curriculum=None):
        self.config, self.run_dir, self.progress_bar = config, run_dir, progress_bar
        self.curriculum = curriculum
        if bool(config["curriculum"]) != (curriculum is not None):
            raise ValueError(f"config curriculum is {config['curriculum']!r} but "
                             f"{'a' if curriculum is not None else 'no'} curriculum object was given")

    def setup(self, resume_from: Path | None = None):
        from stable_baselines3.common.logger import configure

        config = self.config
        device = prepare_training(config)
        self.venv = _make_vec_env(config, self.curriculum)
        cls = algo_class(config["algo"])
        if resume_from is None:
            self.model = cls(config["policy"], self.venv, seed=config["seed"], device=device, verbose=0,
                             **_algo_kwargs(config, self.venv))
        else:
            custom = {}
            if config["action_noise_sigma"]:
                custom["action_noise"] = _algo_kwargs(config, self.venv)["action_noise"]
            with legacy_module_names():  # runs saved before the deep_arena root
                self.model = cls.load(resume_from, env=self.venv, device=device, custom_objects=custom or None)
            self.model.set_random_seed(config["seed"] + self.model.num_timesteps)
            buffer = self.run_dir.checkpoints_dir / f"replay_buffer_{self.model.num_timesteps:09d}.pkl"
            if config["algo"] in OFF_POLICY:
                if buffer.is_file():
                    self.model.load_replay_buffer(buffer)
                else:  # refill before learning again (HER cannot sample before an episode is complete)
                    starts = int(config["model"].get("learning_starts", 100))
                    self.model.learning_starts = self.model.num_timesteps + max(starts, 100)
                    warnings.warn(f"{buffer} is missing: training continues with an empty replay buffer, "
                                  f"learning again after {self.model.learning_starts} steps", stacklevel=2)
        if resume_from is not None and self.curriculum is not None:
            self._load_curriculum(self.model.num_timesteps)
        self.model.set_logger(configure(str(self.run_dir.path), ["tensorboard"]))
        self.regulariser = None
        if resume_from is None and config["expert"]["episodes"]:
            self._expert_start()
        elif config["expert"]["bc_alpha"]:
            self._add_regulariser(*self._load_expert_states())
        per_axis = coverage_per_axis(config)
        self.coverage_goals = None
        if per_axis:
            probe = make_env(config)
            self.coverage_goals = coverage_goals(probe.unwrapped.goal_low, probe.unwrapped.goal_high, per_axis)
            probe.close()
        self.eval_env = make_env(config, render_mode="rgb_array" if config["eval_frames"] else None,
                                 width=config["frame_size"], height=config["frame_size"])
        return self

    def learn(self) -> dict[str, Any]:
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.logger import Image

        config, run_dir, model, trainer = self.config, self.run_dir, self.model, self
        evals_path = run_dir.path / "evaluations.npz"
        history = _load_history(evals_path, upto=model.num_timesteps)

        class ArmCallback(BaseCallback):
            def __init__(self):
                super().__init__()
                self.started = time.time()
                self.start_steps = model.num_timesteps
                self.next_eval = _next_multiple(model.num_timesteps, config["eval_every"])
                self.next_ckpt = _next_multiple(model.num_timesteps, config["checkpoint_every"])
                self.last: dict[str, Any] | None = None

            def _on_step(self) -> bool:
                if self.num_timesteps >= self.next_eval:
                    self.next_eval = _next_multiple(self.num_timesteps, config["eval_every"])
                    self.evaluate()
                if self.num_timesteps >= self.next_ckpt:
                    self.next_ckpt = _next_multiple(self.num_timesteps, config["checkpoint_every"])
                    trainer.checkpoint()
                if config["minutes"] is not None and time.time() - self.started > 60.0 * config["minutes"]:
                    return False
                return True

            def evaluate(self) -> dict[str, Any]:
                stride = config["frame_stride"] if config["eval_frames"] else 0
                r = run_episodes(model, trainer.eval_env, config["eval_episodes"], config["eval_seed"],
                                 frames_of_first=stride)
                self.last = r
                step = model.num_timesteps
                history["timesteps"].append(step)
                for key in ("returns", "successes", "final_distances", "lengths"):
                    history[key].append(r[key])
                _save_history(evals_path, history)
                log = model.logger
                log.record("eval/success_rate", float(r["successes"].mean()))
                log.record("eval/mean_return", float(r["returns"].mean()))
                log.record("eval/mean_final_distance", float(r["final_distances"].mean()))
                if trainer.regulariser is not None and trainer.regulariser.stats:
                    for key, value in trainer.regulariser.stats.items():
                        log.record(f"expert/cloning_{key}", value)
                if r["frames"]:
                    log.record("eval/frames", Image(frame_strip(r["frames"]), "HWC"),
                               exclude=("stdout", "log", "json", "csv"))
                elapsed = time.time() - self.started
                if elapsed > 0:
                    log.record("time/steps_per_second", (step - self.start_steps) / elapsed)
                if trainer.coverage_goals is not None:
                    c = run_episodes(model, trainer.eval_env, None, config["eval_seed"], goals=trainer.coverage_goals)
                    r["coverage"] = float(c["successes"].mean())
                    log.record("eval/coverage", r["coverage"])
                    _append_coverage(run_dir.path / "coverage.npz", step, trainer.coverage_goals, c["successes"])
                if trainer.curriculum is not None:
                    for key, value in trainer.curriculum.log_values().items():
                        log.record(f"curriculum/{key}", value)
                    picture = trainer.curriculum.image()
                    if picture is not None:
                        log.record("curriculum/goals", Image(picture, "HWC"), exclude=("stdout", "log", "json", "csv"))
                log.dump(step)
                return r

        callback = ArmCallback()
        remaining = config["total_steps"] - model.num_timesteps
        if remaining > 0:
            model.learn(total_timesteps=remaining, callback=callback, progress_bar=self.progress_bar,
                        reset_num_timesteps=False)
        done_here = history["timesteps"] and history["timesteps"][-1] == model.num_timesteps
        last = callback.last if done_here and callback.last is not None else callback.evaluate()
        self.checkpoint()
        model.save(run_dir.path / "final_model.zip")
        self.venv.close()
        self.eval_env.close()
        result = {"steps": int(model.num_timesteps), "success_rate": float(last["successes"].mean()),
                  "mean_return": float(last["returns"].mean()),
                  "mean_final_distance": float(last["final_distances"].mean()),
                  "episodes": int(len(last["successes"]))}
        if "coverage" in last:
            result["coverage"], result["coverage_goals"] = last["coverage"], len(self.coverage_goals)
        return result

    def _expert_start(self) -> None:
        """Demonstrations, cloning, DAgger and critic warm-up before step 0 (see agents.arm.expert); a resumed
        run has them in its saved model and buffer, and its labelled states in ``checkpoints/expert_states.npz``."""
        from deep_arena.agents.arm import expert as arm_expert

        cfg, model, log = self.config["expert"], self.model, self.model.logger
        seed, started = self.config["seed"], time.time()
        env = make_env(self.config)
        try:
            demos = arm_expert.collect_demonstrations(env, cfg["episodes"], cfg["seed"], cfg["push_speed"])
            arm_expert.add_to_replay_buffer(model, demos["transitions"])
            obs, actions = arm_expert.labelled_states(demos["transitions"], cfg["push_speed"])
            if cfg["normalise_inputs"]:
                arm_expert.set_input_statistics(model, obs)
            losses = arm_expert.behaviour_cloning(model, obs, actions, cfg["bc_steps"], seed=seed)
            for round_ in range(cfg["dagger_rounds"]):
                played = arm_expert.policy_rollouts(model, env, cfg["dagger_episodes"],
                                                    cfg["seed"] + cfg["episodes"] + round_ * cfg["dagger_episodes"])
                log.record("expert/dagger_success_rate", float(played["successes"].mean()))
                log.dump(round_ + 1)
                print(f"DAgger round {round_ + 1}: the policy solves {played['successes'].mean():.0%} "
                      f"of {cfg['dagger_episodes']} episodes", flush=True)
                arm_expert.add_to_replay_buffer(model, played["transitions"])
                more_obs, more_actions = arm_expert.labelled_states(played["transitions"], cfg["push_speed"])
                obs = {k: np.concatenate([obs[k], more_obs[k]]) for k in obs}
                actions = np.concatenate([actions, more_actions])
                losses = arm_expert.behaviour_cloning(model, obs, actions, cfg["bc_steps"], seed=seed + round_ + 1)
        finally:
            env.close()
        np.savez_compressed(self.run_dir.checkpoints_dir / "expert_states.npz", actions=actions,
                            **{f"obs_{k}": v for k, v in obs.items()})
        if getattr(model, "log_ent_coef", None) is not None and cfg["ent_coef"]:
            import torch

            with torch.no_grad():
                model.log_ent_coef.fill_(float(np.log(cfg["ent_coef"])))
        arm_expert.critic_warmup(model, cfg["critic_steps"])
        if cfg["bc_alpha"]:
            self._add_regulariser(obs, actions)
        log.record("expert/demo_success_rate", float(demos["successes"].mean()))
        log.record("expert/demo_transitions", len(demos["transitions"]))
        log.record("expert/labelled_states", len(actions))
        if losses:
            log.record("expert/bc_loss_last", float(np.mean(losses[-100:])))
        log.record("expert/seconds", time.time() - started)
        log.dump(0)
        self.checkpoint()   # model_000000000.zip: the expert start alone, to evaluate or to start other runs from
        print(f"expert start: {cfg['episodes']} demonstrations ({demos['successes'].mean():.0%} successful), "
              f"{cfg['dagger_rounds']} DAgger rounds, {len(actions)} labelled states, {cfg['critic_steps']} critic "
              f"steps in {time.time() - started:.0f} s", flush=True)

    def _load_expert_states(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        path = self.run_dir.checkpoints_dir / "expert_states.npz"
        try:
            with np.load(path) as data:
                return ({k[4:]: data[k] for k in data.files if k.startswith("obs_")}, data["actions"])
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f"{path}: cannot read the expert's labelled states for expert.bc_alpha ({err})") from None

    def _add_regulariser(self, obs: dict[str, np.ndarray], actions: np.ndarray) -> None:
        from deep_arena.agents.arm import expert as arm_expert

        cfg = self.config["expert"]
        self.regulariser = arm_expert.ClonedActionRegulariser(self.model, obs, actions, cfg["bc_alpha"],
                                                              seed=self.config["seed"], q_filter=cfg["q_filter"])

    def checkpoint(self) -> Path:
        steps = self.model.num_timesteps
        path = self.run_dir.checkpoints_dir / f"model_{steps:09d}.zip"
        self.model.save(path)
        if self.config["algo"] in OFF_POLICY and self.config["save_replay_buffer"]:
            self.model.save_replay_buffer(self.run_dir.checkpoints_dir / f"replay_buffer_{steps:09d}.pkl")
            for old_steps, old in _checkpoints(self.run_dir, BUFFER_RE):
                if old_steps != steps:
                    old.unlink(missing_ok=True)
        if self.curriculum is not None:
            from deep_arena.runtime import save_checkpoint

            save_checkpoint(self.run_dir.checkpoints_dir / f"curriculum_{steps:09d}.pt", self.curriculum.state_dict())
        return path

    def _load_curriculum(self, steps: int) -> None:
        load_curriculum(self.run_dir, steps, self.curriculum)


def load_curriculum(run_dir: RunDir, steps: int, curriculum) -> None:
    """Restore ``curriculum`` from ``checkpoints/curriculum_<steps>.pt`` (a warning and a fresh curriculum if the
    file is missing; ``ValueError`` naming the file if it is corrupt or made for another goal box)."""
    from deep_arena.runtime import CheckpointError, load_checkpoint

    path = run_dir.checkpoints_dir / f"curriculum_{steps:09d}.pt"
    if not path.is_file():
        warnings.warn(f"{path} is missing: the goal curriculum starts afresh", stacklevel=2)
        return
    try:
        curriculum.load_state_dict(load_checkpoint(path))
    except (CheckpointError, KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: cannot restore the goal curriculum ({type(err).__name__}: {err})") from None


def _next_multiple(step: int, every: int) -> int:
    return (step // every + 1) * every


def _load_history(path: Path, upto: int) -> dict[str, list]:
    history: dict[str, list] = {"timesteps": [], "returns": [], "successes": [], "final_distances": [],
                                "lengths": []}
    if path.is_file():  # resuming: keep the evaluations up to the checkpoint
        with np.load(path) as data:
            keep = data["timesteps"] <= upto
            history["timesteps"] = [int(t) for t in data["timesteps"][keep]]
            for key in ("returns", "successes", "final_distances", "lengths"):
                history[key] = list(data[key][keep])
    return history


def _save_history(path: Path, history: dict[str, list]) -> None:
    """``evaluations.npz`` as rl-zoo writes it (timesteps, results = returns, ep_lengths, successes) plus distances:
    one row per evaluation; if ``eval_episodes`` changed on a resume, shorter rows are padded with NaN."""
    arrays = {"timesteps": np.asarray(history["timesteps"], dtype=np.int64)}
    for key in ("returns", "successes", "final_distances", "lengths"):
        rows = history[key]
        width = max((len(r) for r in rows), default=0)
        if all(len(r) == width for r in rows):
            arrays[key] = np.asarray(rows)
        else:
            arrays[key] = np.array([np.pad(np.asarray(r, dtype=float), (0, width - len(r)), constant_values=np.nan)
                                    for r in rows])
    arrays["results"], arrays["ep_lengths"] = arrays["returns"], arrays["lengths"]
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def train(config: dict[str, Any], run_dir: RunDir, progress_bar: bool = True, curriculum=None) -> dict[str, Any]:
    """Train from scratch with ``config`` (see DEFAULTS) into ``run_dir``; returns the last evaluation.

    ``curriculum`` (required when ``config["curriculum"]`` is set): the goal source of the training episodes, an
    object with ``next_goal()``, ``record(goal, success)``, ``log_values()``, ``image()``, ``state_dict()`` and
    ``load_state_dict()`` (e.g. :class:`gan.goalgan.GoalGANCurriculum`); it is checkpointed with the model.
    """
    return _Trainer(config, run_dir, progress_bar, curriculum).setup().learn()


def resume(config: dict[str, Any], run_dir: RunDir, checkpoint: Path, progress_bar: bool = True,
           curriculum=None) -> dict[str, Any]:
    """Continue ``run_dir`` from ``checkpoint`` (model, replay buffer, curriculum, step counter) up to
    ``total_steps``."""
    return _Trainer(config, run_dir, progress_bar, curriculum).setup(resume_from=checkpoint).learn()


def _append_coverage(path: Path, step: int, goals: np.ndarray, successes: np.ndarray) -> None:
    """``coverage.npz``: the test goals and, per evaluation, the step and which goals were reached."""
    steps, rows = [], []
    if path.is_file():
        with np.load(path) as data:
            keep = data["timesteps"] < step
            steps, rows = list(data["timesteps"][keep]), list(data["reached"][keep])
    steps.append(step)
    rows.append(np.asarray(successes, dtype=bool))
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, timesteps=np.asarray(steps, dtype=np.int64), goals=goals, reached=np.asarray(rows),
             coverage=np.asarray(rows).mean(axis=1))
    os.replace(tmp, path)


# -- loading saved models ----------------------------------------------------------------------------------------

_POLICY_MODULES = {"sb3_contrib.tqc": "tqc", "stable_baselines3.sac": "sac", "stable_baselines3.td3": "td3",
                   "stable_baselines3.common.policies": "ppo", "stable_baselines3.ppo": "ppo"}


def saved_algo(path: str | os.PathLike[str]) -> str:
    """Which algorithm saved the SB3 zip at ``path`` (read from its ``data`` entry); ``ValueError`` if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data").decode("utf-8"))
        module = data["policy_class"]["__module__"]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
        raise ValueError(f"{path}: not a Stable-Baselines3 model zip ({type(err).__name__}: {err})") from None
    for prefix, algo in _POLICY_MODULES.items():
        if module.startswith(prefix):
            return algo
    raise ValueError(f"{path}: saved by an unsupported policy class from {module!r} (expected SAC, TD3, TQC or PPO)")


def load_model(path: str | os.PathLike[str], device: str = "auto", env=None):
    """Load an SB3 model saved by :func:`train` (any of SAC, TD3, TQC, PPO) for acting (``predict``); ``ValueError``
    with one line if the file is missing, corrupt, or (with ``env``) made for other observation/action spaces. To
    continue training, resume the run instead (``train_arm.py --resume``): that restores the replay buffer."""
    algo = saved_algo(path)
    # The zip holds no replay buffer; a 1-transition plain one keeps loading light (and HER would need an env).
    custom = {"replay_buffer_class": None, "replay_buffer_kwargs": {}, "buffer_size": 1} if algo in OFF_POLICY else None
    try:
        with legacy_module_names():  # models saved before the deep_arena root
            model = algo_class(algo).load(path, device=str(resolve_device(device)), custom_objects=custom)
    except Exception as err:  # noqa: BLE001 - pickle/zip/torch errors of every kind mean a broken file
        raise ValueError(f"{path}: could not load the {algo.upper()} model ({type(err).__name__}: {err})") from None
    if env is not None:
        check_spaces(model, env, str(path))
    return model


def check_spaces(model, env, name: str) -> None:
    obs_m, obs_e = model.observation_space, env.observation_space
    try:
        shapes_m = {k: s.shape for k, s in obs_m.spaces.items()}
        shapes_e = {k: s.shape for k, s in obs_e.spaces.items()}
    except AttributeError:
        shapes_m, shapes_e = getattr(obs_m, "shape", None), getattr(obs_e, "shape", None)
    if shapes_m != shapes_e or model.action_space.shape != env.action_space.shape:
        raise ValueError(f"{name} was trained for observations {shapes_m} and actions {model.action_space.shape}, "
                         f"but this env has {shapes_e} and {env.action_space.shape} (another task or control?)")


def saved_env_config(model_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The env settings (task, reward_type, control, env_kwargs) of the run a model file belongs to, read from the
    ``config.yml`` next to it or one folder up (checkpoints/); {} if there is none."""
    from deep_arena.runtime import load_config

    path = Path(model_path).resolve()
    for folder in (path.parent, path.parent.parent):
        cfg = folder / "config.yml"
        if cfg.is_file():
            try:
                saved = load_config(cfg)
            except ValueError:
                return {}
            return {k: saved[k] for k in ("task", "reward_type", "control", "env_kwargs") if k in saved}
    return {}


def resolve_model(spec: str, task: str, reward_type: str | None = None,
                  control: str | None = None) -> tuple[Path, dict[str, Any]]:
    """The model file for ``spec`` (a path, or ``"pretrained"``: the shipped ``arm-<task>`` model) and the env
    settings to play it with: the run's ``config.yml`` when the model has one, else sparse reward and ``ee``
    control; ``reward_type`` / ``control`` override them. ``ValueError`` if there is no such model or it was
    trained on another task."""
    env_id(task)
    if spec == "pretrained":
        from deep_arena.agents.pretrained import pretrained_arm_path

        path, saved = pretrained_arm_path(task), {}
    else:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"model file {str(path)!r} does not exist" if not path.is_dir() else
                             f"{str(path)!r} is a folder; give the model file (e.g. {path / 'final_model.zip'})")
        saved = saved_env_config(path)
    if saved.get("task", task) != task:
        raise ValueError(f"{path} was trained on task {saved['task']!r}, not {task!r}")
    env_config = {"task": task, "reward_type": "sparse", "control": "ee", "env_kwargs": {}}
    env_config.update({k: v for k, v in saved.items() if k != "task"})
    if reward_type is not None:
        env_config["reward_type"] = reward_type
    if control is not None:
        env_config["control"] = control
    return path, env_config
