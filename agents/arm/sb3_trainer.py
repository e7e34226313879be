"""SAC, TD3, TQC (optionally with hindsight experience replay) and PPO on the robot arm (``arena/Arm*-v0``): the
arm's glue to the generic SB3 runner (:mod:`agents.sb3`); settings in :mod:`agents.arm.config`.

:class:`ArmTrainer` builds the env (a ``DummyVecEnv``/``SubprocVecEnv`` of ``n_envs`` copies), the algorithm and,
with ``her``, SB3's ``HerReplayBuffer`` (``future`` goals by default), then learns with the runner's callbacks:

* evaluation every ``eval_every`` env steps: ``eval_episodes`` seeded episodes (episode ``i`` resets with seed
  ``eval_seed + i``) with the deterministic policy, logging ``eval/success_rate`` (success at the last step, as
  Fetch and rl-zoo count it), ``eval/mean_return`` and ``eval/mean_final_distance`` to TensorBoard and appending
  them to ``evaluations.npz``; with ``eval_frames`` the first episode is also rendered and a horizontal strip of
  every ``frame_stride``-th frame goes to TensorBoard (``eval/frames``; without OpenGL the env draws its 2-D view,
  and if rendering fails altogether the strip is skipped with a warning);
* checkpoints every ``checkpoint_every`` steps into ``<run>/checkpoints``: ``model_<steps>.zip`` (policy,
  optimizers, step counter; the newest ``keep_checkpoints`` are kept, and an expert start's ``model_000000000.zip``),
  for off-policy algorithms ``replay_buffer_<steps>.pkl`` (only the newest, holding only the transitions stored so
  far) and with a goal curriculum ``curriculum_<steps>.pt``, so that :meth:`ArmTrainer.load` continues exactly where
  the checkpoint left off;
* a stop when the optional wall-clock budget ``minutes`` (the run's training time, across resumes) is spent, or at
  the next step after Ctrl-C / SIGTERM (a checkpoint and ``final_model.zip`` are saved, no final evaluation).

At the end a last checkpoint and ``final_model.zip`` (no replay buffer; what ``evaluate.py arm`` and ``play.py arm``
load) are written, then the final evaluation runs. Hyperparameters come from ``agents/hyperparams/<algo>.yml`` keyed by env id; ``model`` is
an open bag of keyword arguments for the algorithm's constructor (``learning_rate``, ``batch_size``,
``policy_kwargs``...).

MuJoCo is imported by the first :func:`make_env` (``gym.make`` loads the arm env), after it has chosen a headless
OpenGL backend (``MUJOCO_GL`` must be set before mujoco is imported).
"""

from __future__ import annotations

import copy
import os
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import HerReplayBuffer
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import deep_arena.envs  # noqa: F401  (registers the arena/* ids; the arm env and mujoco load at gym.make)
from deep_arena.agents.arm import expert as arm_expert
from deep_arena.agents.arm.config import (ALGOS, DEFAULTS, OFF_POLICY, TASKS, ArmSettings, default_config,
                                          env_id)
from deep_arena.agents.sb3.callbacks import CheckpointCallback, EvaluationCallback, frame_strip, log_image
from deep_arena.agents.sb3.checkpoints import (MODEL_RE, Checkpointer, buffer_path, checkpoint_steps,
                                               latest_model_checkpoint, state_path)
from deep_arena.agents.sb3.models import algo_class, load_saved, restore_replay_buffer, saved_algo as _saved_algo
from deep_arena.agents.sb3.trainer import FINAL_MODEL, SB3Trainer
from deep_arena.runtime import (CheckpointError, RunDir, load_checkpoint, load_config, progress as progress_bar,
                                save_checkpoint)
from deep_arena.agents.pretrained import pretrained_arm_path
from deep_arena.runtime.trainer import RunResult

__all__ = ["ALGOS", "DEFAULTS", "MODEL_RE", "OFF_POLICY", "TASKS", "ArmTrainer", "GoalCurriculumWrapper",
           "check_spaces", "coverage_goals", "coverage_per_axis", "default_config", "env_id", "frame_strip",
           "latest_model_checkpoint", "load_curriculum", "load_model", "make_env", "resolve_model", "run_episodes",
           "saved_algo", "saved_env_config", "validate_config"]


def validate_config(config: dict[str, Any]) -> ArmSettings:
    """The checked settings; ``ValueError`` naming the first bad value (before any run directory or model is made).
    The env's own checks (goal_space, ...) run on a throwaway env."""
    settings = ArmSettings.from_dict(config)
    make_env(settings.to_dict()).close()
    return settings


def _limit_xla_threads(threads: int | None) -> None:
    """sbx (JAX) on the CPU: XLA's intra-op threads at ``threads`` like torch's (``XLA_FLAGS`` is read when jax is
    imported, so only before that; an ``XLA_FLAGS`` already set wins)."""
    if threads and "jax" not in sys.modules and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if int(threads) > 1 else 'false'} "
                                   f"intra_op_parallelism_threads={int(threads)}")


def _setup_mujoco_gl() -> None:
    """Headless MuJoCo rendering needs ``MUJOCO_GL`` before mujoco is imported; EGL works on Mesa."""
    if "mujoco" not in sys.modules:
        os.environ.setdefault("MUJOCO_GL", "egl")


def make_env(config: dict[str, Any], render_mode: str | None = None, **extra: Any):
    """One ``arena/Arm*-v0`` env (50-step TimeLimit) for ``config``."""
    _setup_mujoco_gl()  # before gym.make imports envs.arm.env and with it mujoco
    kwargs = {"reward_type": config["reward_type"], "control": config["control"], **config["env_kwargs"], **extra}
    return gym.make(env_id(config["task"]), render_mode=render_mode, **kwargs)


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
    subproc = config["vec_env"] == "subproc" and config["n_envs"] > 1

    def factory():
        if subproc:  # runs in the worker: a Ctrl-C in the terminal is the trainer's to handle (it stops cleanly)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        env = make_env(config)
        if curriculum is not None:
            env = GoalCurriculumWrapper(env, curriculum)
        return Monitor(env, info_keywords=("is_success",))

    fns = [factory for _ in range(config["n_envs"])]
    return SubprocVecEnv(fns) if subproc else DummyVecEnv(fns)


def _action_noise(config: dict[str, Any], venv) -> NormalActionNoise:
    dim = venv.action_space.shape[0]
    return NormalActionNoise(np.zeros(dim), config["action_noise_sigma"] * np.ones(dim))


def _algo_kwargs(config: dict[str, Any], venv) -> dict[str, Any]:
    kwargs = copy.deepcopy(config["model"])
    if config["her"]:
        kwargs["replay_buffer_class"] = HerReplayBuffer
        kwargs["replay_buffer_kwargs"] = dict(config["her_kwargs"])
    if config["expert"]["episodes"] and config["expert"]["normalise_inputs"]:
        kwargs["policy_kwargs"] = {**kwargs.get("policy_kwargs", {}),
                                   "features_extractor_class": arm_expert.NormalisedDictExtractor}
    if config["action_noise_sigma"]:
        kwargs["action_noise"] = _action_noise(config, venv)
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


# -- training --------------------------------------------------------------------------------------------------


class ArmTrainer(SB3Trainer):
    """The arm's SB3 trainer (see the module docstring). ``curriculum`` (required when ``config["curriculum"]`` is
    set): the goal source of the training episodes, an object with ``next_goal()``, ``record(goal, success)``,
    ``log_values()``, ``image()``, ``state_dict()`` and ``load_state_dict()`` (e.g.
    :class:`gan.goalgan.GoalGANCurriculum`); it is checkpointed with the model. :meth:`load` resumes a run from a
    ``checkpoints/model_<steps>.zip`` (model, replay buffer, curriculum, step counter) up to ``total_steps``."""

    settings_class = ArmSettings

    def __init__(self, config: dict[str, Any], run_dir: RunDir, progress_bar: bool = True, curriculum=None):
        if str(config.get("algo", "")).startswith("sbx_"):
            _limit_xla_threads(config.get("threads"))
        super().__init__(config, run_dir, progress_bar)
        if bool(self.config["curriculum"]) != (curriculum is not None):
            raise ValueError(f"config curriculum is {self.config['curriculum']!r} but "
                             f"{'a' if curriculum is not None else 'no'} curriculum object was given")
        self.curriculum = curriculum
        self.regulariser = None
        self.coverage_goals: np.ndarray | None = None
        self.eval_env = None
        self.evaluation: EvaluationCallback | None = None
        self.checkpointer: Checkpointer | None = None
        self._speed_mark: tuple[float, int] | None = None   # (time, gradient updates) at the last evaluation

    def algo_name(self) -> str:
        return self.config["algo"]

    def policy_name(self) -> str:
        return self.config["policy"]

    def make_venv(self):
        return _make_vec_env(self.config, self.curriculum)

    def model_kwargs(self, venv) -> dict[str, Any]:
        return _algo_kwargs(self.config, venv)

    def load(self, checkpoint: Path) -> None:
        if self.curriculum is not None:  # a corrupt curriculum file fails before any env or model is built
            load_curriculum(self.run_dir, checkpoint_steps(checkpoint), self.curriculum)
        model = self.load_model(checkpoint)
        if self.config["algo"] in OFF_POLICY:
            restore_replay_buffer(model, buffer_path(self.run_dir, model.num_timesteps),
                                  int(self.config["model"].get("learning_starts", 100)))

    def prepare(self) -> None:
        config = self.config
        state = {"curriculum": self._save_curriculum} if self.curriculum is not None else None
        # the newest keep_checkpoints models, and the expert start (model_000000000.zip) to evaluate or start from
        self.checkpointer = Checkpointer(self.run_dir.checkpoints_dir, state=state,
                                         replay_buffer=config["algo"] in OFF_POLICY and config["save_replay_buffer"],
                                         keep_last=config["keep_checkpoints"], keep_steps=(0,))
        if self.resumed_from is None and config["expert"]["episodes"]:
            self._expert_start()
        elif config["expert"]["bc_alpha"]:
            self._add_regulariser(*self._load_expert_states())
        per_axis = coverage_per_axis(config)
        if per_axis:
            probe = make_env(config)
            self.coverage_goals = coverage_goals(probe.unwrapped.goal_low, probe.unwrapped.goal_high, per_axis)
            probe.close()
        self.eval_env = make_env(config, render_mode="rgb_array" if config["eval_frames"] or config.get("video") else None,
                                 width=config["frame_size"], height=config["frame_size"])

    def callbacks(self) -> list:
        self.evals_path = self.run_dir.path / "evaluations.npz"
        self.history = _load_history(self.evals_path, upto=self.model.num_timesteps)
        self.evaluation = EvaluationCallback(self.config["eval_every"], self.evaluate)
        return [self.evaluation, CheckpointCallback(self.config["checkpoint_every"], self.checkpointer)]

    def evaluate(self, model) -> dict[str, Any]:
        """One evaluation (see the module docstring): into ``evaluations.npz`` and TensorBoard (the callback adds
        the speed and dumps)."""
        config, log, step = self.config, model.logger, model.num_timesteps
        video = bool(config.get("video"))
        stride = config["frame_stride"] if config["eval_frames"] else 0
        r = run_episodes(model, self.eval_env, config["eval_episodes"], config["eval_seed"],
                         frames_of_first=1 if video else stride)
        if video and r["frames"]:
            self._write_video(log, r["frames"], step)
            r["frames"] = r["frames"][::stride] if stride else []  # the strip keeps its stride
        self.history["timesteps"].append(step)
        for key in ("returns", "successes", "final_distances", "lengths"):
            self.history[key].append(r[key])
        _save_history(self.evals_path, self.history)
        log.record("eval/success_rate", float(r["successes"].mean()))
        log.record("eval/mean_return", float(r["returns"].mean()))
        log.record("eval/mean_final_distance", float(r["final_distances"].mean()))
        self._log_update_rate(model)
        if self.regulariser is not None and self.regulariser.stats:
            for key, value in self.regulariser.stats.items():
                log.record(f"expert/cloning_{key}", value)
        if r["frames"]:
            log_image(log, "eval/frames", frame_strip(r["frames"]))
        if self.coverage_goals is not None:
            c = run_episodes(model, self.eval_env, None, config["eval_seed"], goals=self.coverage_goals)
            r["coverage"] = float(c["successes"].mean())
            log.record("eval/coverage", r["coverage"])
            _append_coverage(self.run_dir.path / "coverage.npz", step, self.coverage_goals, c["successes"])
        if self.curriculum is not None:
            for key, value in self.curriculum.log_values().items():
                log.record(f"curriculum/{key}", value)
            picture = self.curriculum.image()
            if picture is not None:
                log_image(log, "curriculum/goals", picture)
        return r

    def _log_update_rate(self, model) -> None:
        """``time/updates_per_second``: gradient updates per wall-clock second since the last evaluation (the
        evaluations themselves included; ``time/steps_per_second`` is the env steps' rate)."""
        now, updates = time.perf_counter(), int(getattr(model, "_n_updates", 0))
        if self._speed_mark is not None and now > self._speed_mark[0] and updates >= self._speed_mark[1]:
            model.logger.record("time/updates_per_second", (updates - self._speed_mark[1]) / (now - self._speed_mark[0]))
        model.logger.record("train/updates", updates)
        self._speed_mark = (now, updates)

    def _write_video(self, log, frames: list, step: int) -> None:
        """``--video``: the evaluation episode as ``videos/eval_<step>.mp4`` (never over an existing file: a resumed
        run that evaluates at a step again keeps the first) and as TensorBoard's ``eval/video``."""
        from stable_baselines3.common.logger import TensorBoardOutputFormat  # lazy: SB3 is loaded already
        from deep_arena.runtime.video import log_video, write_video  # lazy: imageio

        fps = self.eval_env.metadata.get("render_fps") or 25
        try:
            write_video(self.run_dir.path / "videos" / f"eval_{step:09d}.mp4", frames, fps=fps)
        except FileExistsError:
            pass
        except Exception as err:  # noqa: BLE001 - a video is never worth a crashed training run
            warnings.warn(f"could not write the evaluation video ({type(err).__name__}: {err})", stacklevel=2)
        for output in log.output_formats:
            if isinstance(output, TensorBoardOutputFormat):
                log_video(output.writer, "eval/video", frames, step, fps=fps)

    def finish(self) -> RunResult:
        model = self.model
        self.checkpointer.save(model)  # saved before the final evaluation, which a Ctrl-C could stop
        model.save(self.run_dir.path / FINAL_MODEL)
        done_here = self.history["timesteps"] and self.history["timesteps"][-1] == model.num_timesteps
        last = self.evaluation.last if done_here and self.evaluation.last is not None \
            else self.evaluation.evaluate_now(model)
        figures = {"steps": int(model.num_timesteps), "success_rate": float(last["successes"].mean()),
                   "mean_return": float(last["returns"].mean()),
                   "mean_final_distance": float(last["final_distances"].mean()),
                   "episodes": int(len(last["successes"]))}
        if "coverage" in last:
            figures["coverage"], figures["coverage_goals"] = last["coverage"], len(self.coverage_goals)
        metrics = {k: figures[k] for k in ("success_rate", "mean_return", "mean_final_distance", "coverage")
                   if k in figures}
        return self.result(metrics, details=figures, counters={"eval_episodes": figures["episodes"]})

    def close(self) -> None:
        super().close()
        if self.eval_env is not None:
            self.eval_env.close()

    def custom_objects(self, venv) -> dict[str, Any]:
        # the exploration noise is not taken from the zip: a fresh one with today's sigma
        return {"action_noise": _action_noise(self.config, venv)} if self.config["action_noise_sigma"] else {}

    def _expert_start(self) -> None:
        """Demonstrations, cloning, DAgger and critic warm-up before step 0 (see agents.arm.expert); a resumed
        run has them in its saved model and buffer, and its labelled states in ``checkpoints/expert_states.npz``."""
        cfg, model, log = self.config["expert"], self.model, self.model.logger
        seed, started = self.config["seed"], time.time()
        env = make_env(self.config)
        try:
            task, speed = self.config["task"], self.expert_speed()
            demos = arm_expert.collect_demonstrations(env, cfg["episodes"], cfg["seed"], speed, task)
            arm_expert.add_to_replay_buffer(model, demos["transitions"])
            obs, actions = arm_expert.labelled_states(demos["transitions"], speed, task)
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
                more_obs, more_actions = arm_expert.labelled_states(played["transitions"], speed, task)
                obs = {k: np.concatenate([obs[k], more_obs[k]]) for k in obs}
                actions = np.concatenate([actions, more_actions])
                losses = arm_expert.behaviour_cloning(model, obs, actions, cfg["bc_steps"], seed=seed + round_ + 1)
        finally:
            env.close()
        np.savez_compressed(self.run_dir.checkpoints_dir / "expert_states.npz", actions=actions,
                            **{f"obs_{k}": v for k, v in obs.items()})
        if getattr(model, "log_ent_coef", None) is not None and cfg["ent_coef"]:
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
        self.checkpointer.save(model)  # model_000000000.zip: the expert start alone, to evaluate or start runs from
        print(f"expert start: {cfg['episodes']} demonstrations ({demos['successes'].mean():.0%} successful), "
              f"{cfg['dagger_rounds']} DAgger rounds, {len(actions)} labelled states, {cfg['critic_steps']} critic "
              f"steps in {time.time() - started:.0f} s", flush=True)

    def expert_speed(self) -> float:
        """The scripted expert's speed cap: ``expert.push_speed`` for push, ``expert.carry_speed`` otherwise."""
        cfg = self.config["expert"]
        return cfg["push_speed"] if self.config["task"] == "push" else cfg["carry_speed"]

    def _load_expert_states(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        path = self.run_dir.checkpoints_dir / "expert_states.npz"
        try:
            with np.load(path) as data:
                return ({k[4:]: data[k] for k in data.files if k.startswith("obs_")}, data["actions"])
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f"{path}: cannot read the expert's labelled states for expert.bc_alpha ({err})") from None

    def _add_regulariser(self, obs: dict[str, np.ndarray], actions: np.ndarray) -> None:
        cfg = self.config["expert"]
        self.regulariser = arm_expert.ClonedActionRegulariser(self.model, obs, actions, cfg["bc_alpha"],
                                                              seed=self.config["seed"], q_filter=cfg["q_filter"])

    def _save_curriculum(self, path: Path) -> None:
        save_checkpoint(path, self.curriculum.state_dict())


def load_curriculum(run_dir: RunDir, steps: int, curriculum) -> None:
    """Restore ``curriculum`` from ``checkpoints/curriculum_<steps>.pt`` (a warning and a fresh curriculum if the
    file is missing; ``ValueError`` naming the file if it is corrupt or made for another goal box)."""
    path = state_path(run_dir, "curriculum", steps)
    if not path.is_file():
        warnings.warn(f"{path} is missing: the goal curriculum starts afresh", stacklevel=2)
        return
    try:
        curriculum.load_state_dict(load_checkpoint(path))
    except (CheckpointError, KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: cannot restore the goal curriculum ({type(err).__name__}: {err})") from None


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


def saved_algo(path: str | os.PathLike[str]) -> str:
    """Which of SAC, TD3, TQC, PPO saved the SB3 zip at ``path``; ``ValueError`` if unreadable or another one."""
    return _saved_algo(path, allowed=ALGOS)


def load_model(path: str | os.PathLike[str], device: str = "auto", env=None):
    """Load an SB3 model saved by :class:`ArmTrainer` (any of SAC, TD3, TQC, PPO) for acting (``predict``);
    ``ValueError`` with one line if the file is missing, corrupt, or (with ``env``) made for other observation/action
    spaces. To continue training, resume the run instead (``train_arm.py --resume``): that restores the replay
    buffer."""
    algo = saved_algo(path)
    # The zip holds no replay buffer; a 1-transition plain one keeps loading light (and HER would need an env).
    custom = {"replay_buffer_class": None, "replay_buffer_kwargs": {}, "buffer_size": 1} if algo in OFF_POLICY else None
    try:
        model = load_saved(algo_class(algo), path, device=device, custom_objects=custom)
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
