"""MaskablePPO (sb3-contrib) baseline on `arena/MoleculeDesign-v0`: the molecule family's glue to the generic SB3
runner (:mod:`agents.sb3`); settings in :mod:`agents.molecule.ppo_config`.

The policy reads the env's observation (Morgan fingerprint + steps left, or the padded graph with
``env.obs_type="graph"``) and picks one edit from the env's fixed ``Discrete`` action space; MaskablePPO receives
``MoleculeEnv.action_masks()`` each step, so every action taken is a valid edit and every state a valid molecule.

The MDP defaults to MolDQN's (so the two agents are compared on the same problem): C/N/O, at most 38 atoms,
40 steps, every-step reward ``f(s') · 0.9^(steps left)`` and no stop action (``env.allow_stop=False`` masks it
out, unless nothing else is legal). ``env.reward_mode="final"`` with ``env.allow_stop=True`` gives the plain
"reward at the end, stop when you like" variant.

Outputs in the run directory (the same conventions as `agents.moldqn.trainer`):

* TensorBoard (SB3's logger, one event file): ``episode/return``, ``episode/final_score``, ``episode/validity``
  (share of final molecules that RDKit parses: 1.0 by construction), ``episode/uniqueness_last100`` (distinct
  final molecules among the last 100 episodes), ``top/top1..3`` (the best distinct final molecules so far),
  ``speed/env_steps_per_s`` (env steps per second of wall time, updates included), ``eval/final_score``
  and ``eval/best_score`` (deterministic episodes from the first ``eval_episodes`` start molecules, every
  ``eval_every`` steps), SB3's ``train/*`` and ``rollout/*``, and an image ``top_molecules`` (grid of the best
  molecules) at each checkpoint.
* ``top_molecules.csv`` / ``top_molecules.png`` (`agents.molecule.outputs`): the top-k distinct final molecules of
  training and evaluation episodes with every property.
* ``checkpoints/model_<steps>.zip`` every ``checkpoint_every`` steps and ``final_model.zip``. Each zip records the
  env settings it was trained with (attribute ``arena_molecule``), so :class:`MoleculePPOPolicy` (and
  ``arena-play molecule``) rebuild a matching env.

Resuming is not supported (:meth:`MoleculePPOTrainer.load` refuses): the checkpoints hold the model, not the top
molecules or the episode statistics.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rdkit import Chem
from sb3_contrib import MaskablePPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from deep_arena.agents.molecule.evaluation import read_smiles_file
from deep_arena.agents.molecule.outputs import TopMolecules, write_top_molecules
from deep_arena.agents.molecule.ppo_config import DEFAULTS, MoleculePPOSettings, validate_config
from deep_arena.agents.sb3.callbacks import (CheckpointCallback, EpisodeEndCallback, EvaluationCallback,
                                             HookCallback, log_image)
from deep_arena.agents.sb3.checkpoints import Checkpointer
from deep_arena.agents.sb3.models import load_saved
from deep_arena.agents.sb3.trainer import SB3Trainer
from deep_arena.envs.molecule.env import MoleculeEnv
from deep_arena.runtime import CheckpointError
from deep_arena.runtime.trainer import RunResult

__all__ = ["DEFAULTS", "ENV_ID", "MoleculePPOPolicy", "MoleculePPOTrainer", "NoStopMask", "env_settings", "make_env",
           "play_episode", "policy_mask", "validate_config"]

ENV_ID = "arena/MoleculeDesign-v0"
SETTINGS_ATTR = "arena_molecule"  # attribute saved inside the SB3 zip: the env settings of the run


def start_smiles(config: dict[str, Any]) -> list[str]:
    """The start molecules: ``start_file`` (one SMILES per line, first column) or ``start_smiles``."""
    if config["start_file"]:
        return read_smiles_file(config["start_file"])
    start = config["start_smiles"]
    return [start] if isinstance(start, str) else list(start)


def env_settings(config: dict[str, Any]) -> dict[str, Any]:
    """What a player needs to rebuild the training env (JSON-serialisable; stored in the model zip)."""
    objective = config["objective"]
    kwargs = {k: config[k] for k in ("delta", "target", "weights") if config.get(k) is not None}
    if objective != "sim_plogp":
        kwargs.pop("delta", None)
    return {
        "objective": objective if isinstance(objective, str) else "custom",
        "objective_kwargs": kwargs,
        "start_smiles": start_smiles(config),
        "env": copy.deepcopy(dict(config["env"])),
    }


def _env_from_settings(settings: dict[str, Any], render_mode: str | None = None, objective: Any = None,
                       objective_kwargs: dict[str, Any] | None = None, start_smiles: Any = None, reward_fn=None):
    e = settings["env"]
    if objective is None:
        objective = settings["objective"]
        objective_kwargs = settings.get("objective_kwargs") if objective_kwargs is None else objective_kwargs
    return MoleculeEnv(
        objective=objective, objective_kwargs=objective_kwargs or {}, reward_fn=reward_fn,
        start_smiles=start_smiles or settings["start_smiles"], atom_types=tuple(e["atom_types"]),
        valences=e.get("valences") or {}, ring_sizes=tuple(e["ring_sizes"]), max_atoms=e["max_atoms"],
        max_steps=e["max_steps"], obs_type=e["obs_type"], fp_radius=e["fp_radius"], fp_bits=e["fp_bits"],
        reward_mode=e["reward_mode"], discount=e["discount"], render_mode=render_mode)


def make_env(config: dict[str, Any], render_mode: str | None = None, reward_fn=None):
    """The `MoleculeEnv` a config describes (unwrapped). A bad SMILES, start file, element or objective raises
    ValueError here."""
    return _env_from_settings(env_settings(config), render_mode=render_mode, reward_fn=reward_fn)


def policy_mask(env, allow_stop: bool) -> np.ndarray:
    """The env's action mask, with the stop action removed unless ``allow_stop`` (or unless it is the only legal
    action, so that the mask is never empty)."""
    env = env.unwrapped
    mask = env.action_masks()
    if not allow_stop:
        stop = env.codec.stop
        mask[stop] = not mask[:stop].any() and not mask[stop + 1:].any()
    return mask


class NoStopMask(gym.Wrapper):
    """Hides the stop action from MaskablePPO (MolDQN's episodes always run ``max_steps`` edits)."""

    def action_masks(self) -> np.ndarray:
        return policy_mask(self.env, allow_stop=False)


def _training_env(config: dict[str, Any], settings: dict[str, Any], reward_fn=None) -> gym.Env:
    env: gym.Env = _env_from_settings(settings, reward_fn=reward_fn)
    if not config["env"]["allow_stop"]:
        env = NoStopMask(env)
    return Monitor(env)


# --- training -----------------------------------------------------------------------------------------------------


class MoleculePPOTrainer(SB3Trainer):
    """MaskablePPO on molecule design (see the module docstring); ``reward_fn`` replaces the objective's reward
    (e.g. a GAN-mixed one). ``run()`` returns the top molecules' scores as ``metrics`` (``top1``..``top3``),
    ``counters`` (``env_steps``, ``episodes``) and ``details`` ``{"top": [(score, smiles), ...] best first,
    "seconds", "steps", "episodes", "model_path"}``."""

    settings_class = MoleculePPOSettings
    algorithm = "maskable_ppo"

    def __init__(self, config: dict[str, Any], run_dir, progress_bar: bool = True, reward_fn=None) -> None:
        super().__init__(config, run_dir, progress_bar)
        self.reward_fn = reward_fn
        self.env_settings = env_settings(self.config)
        self.allow_stop = self.config["env"]["allow_stop"]
        self.top = TopMolecules(self.config["top_k"])
        self.eval_env: MoleculeEnv | None = None
        self.window: list[tuple[float, float, bool]] = []  # (return, final score, valid) since the last log
        self.final_smiles: list[str] = []                  # recent final molecules (uniqueness)
        self.episodes = 0
        self.last_time, self.last_steps = time.perf_counter(), 0

    def policy_name(self) -> str:
        return "MultiInputPolicy" if self.config["env"]["obs_type"] == "graph" else "MlpPolicy"

    def make_venv(self):
        config, settings, reward_fn = self.config, self.env_settings, self.reward_fn
        venv = DummyVecEnv([lambda: _training_env(config, settings, reward_fn) for _ in range(config["n_envs"])])
        venv.seed(config["seed"])
        self.eval_env = _env_from_settings(settings, reward_fn=reward_fn)
        return venv

    def model_kwargs(self, venv) -> dict[str, Any]:
        return {"policy_kwargs": {"net_arch": list(self.config["net_arch"])}, **self.config["ppo"]}

    def prepare(self) -> None:
        setattr(self.model, SETTINGS_ATTR, self.env_settings)
        self.started = self.last_time = time.perf_counter()

    def callbacks(self) -> list:
        config = self.config
        self.evaluation = EvaluationCallback(config["eval_every"], self.evaluate, speed_tag=None, dump=False)
        self.checkpointer = Checkpointer(self.run_dir.checkpoints_dir, keep_last=config["keep_checkpoints"])
        return [EpisodeEndCallback(self.episode_end), HookCallback(on_rollout_end=self.log_window), self.evaluation,
                CheckpointCallback(config["checkpoint_every"], self.checkpointer, then=self.write_outputs)]

    def episode_end(self, info: dict[str, Any]) -> None:
        smiles, score = info["smiles"], float(info["score"])
        valid = Chem.MolFromSmiles(smiles) is not None
        ret = float(info["episode"]["r"]) if "episode" in info else float("nan")
        self.window.append((ret, score, valid))
        self.final_smiles = (self.final_smiles + [smiles])[-100:]
        self.episodes += 1
        if valid:
            self.top.add(smiles, score)

    def log_window(self, model) -> None:
        log, steps = model.logger, model.num_timesteps
        if self.window:
            returns, scores, valid = (np.array(v, dtype=np.float64) for v in zip(*self.window))
            log.record("episode/return", float(np.nanmean(returns)) if np.isfinite(returns).any() else 0.0)
            log.record("episode/final_score", float(scores.mean()))
            log.record("episode/validity", float(valid.mean()))
            self.window = []
        if self.final_smiles:
            log.record("episode/uniqueness_last100", len(set(self.final_smiles)) / len(self.final_smiles))
        log.record("episode/count", self.episodes)
        for k, (score, _) in enumerate(self.top.best()[:3], 1):
            log.record(f"top/top{k}", score)
        now = time.perf_counter()
        if now > self.last_time and steps > self.last_steps:
            log.record("speed/env_steps_per_s", (steps - self.last_steps) / (now - self.last_time))
        self.last_time, self.last_steps = now, steps

    def evaluate(self, model) -> list[tuple[float, str]]:
        results = [play_episode(model, self.eval_env, self.allow_stop, start)
                   for start in self.env_settings["start_smiles"][: self.config["eval_episodes"]]]
        for score, smiles in results:
            self.top.add(smiles, score)
        scores = [s for s, _ in results]
        model.logger.record("eval/final_score", float(np.mean(scores)))
        model.logger.record("eval/best_score", float(np.max(scores)))
        return results

    def write_outputs(self, model) -> None:
        grid = write_top_molecules(self.run_dir.path, self.top.best())
        if grid is not None:
            log_image(model.logger, "top_molecules", grid)

    def finish(self) -> RunResult:
        model = self.model
        self.evaluation.evaluate_now(model)
        if self.window:  # episodes since the last rollout's log
            self.log_window(model)
        self.write_outputs(model)
        model.logger.dump(model.num_timesteps)
        model_path = self.run_dir.path / "final_model.zip"
        model.save(model_path)
        top = self.top.best()
        details = {"top": top, "seconds": time.perf_counter() - self.started, "steps": int(model.num_timesteps),
                   "episodes": self.episodes, "model_path": str(model_path)}
        metrics = {f"top{k}": float(score) for k, (score, _) in enumerate(top[:3], 1)}
        return self.result(metrics, details=details, counters={"episodes": self.episodes})

    def interrupted(self) -> RunResult:
        """Ctrl-C / SIGTERM: a checkpoint, ``final_model.zip`` and the top molecules so far, no final evaluation."""
        if self.window:
            self.log_window(self.model)
        self.write_outputs(self.model)
        result = super().interrupted()
        result.details = {"top": self.top.best(), "steps": int(self.model.num_timesteps), "episodes": self.episodes,
                          "model_path": str(result.model_path)}
        result.counters["episodes"] = self.episodes
        return result

    def close(self) -> None:
        super().close()
        if self.eval_env is not None:
            self.eval_env.close()


def play_episode(model, env, allow_stop: bool, start_smiles: str | None = None, seed: int | None = None
                 ) -> tuple[float, str]:
    """One deterministic episode of ``model`` in ``env``; returns ``(score, smiles)`` of the final molecule."""
    obs, info = env.reset(seed=seed, options={"smiles": start_smiles} if start_smiles else None)
    done = False
    while not done:
        action, _ = model.predict(obs, action_masks=policy_mask(env, allow_stop), deterministic=True)
        obs, _, terminated, truncated, info = env.step(int(action))
        done = terminated or truncated
    return float(info["score"]), info["smiles"]


# --- playing a saved model ----------------------------------------------------------------------------------------

class MoleculePPOPolicy:
    """A saved MaskablePPO molecule model as a greedy policy (``act(env, obs)``), with the env settings it was
    trained with (build the env with :meth:`make_env` so that observations and actions match)."""

    def __init__(self, model, settings: dict[str, Any], name: str = "maskable_ppo"):
        self.model = model
        self.settings = settings
        self.objective = settings["objective"]
        self.allow_stop = bool(settings["env"].get("allow_stop", True))
        self.name = name

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "MoleculePPOPolicy":
        """Load ``final_model.zip`` / ``checkpoints/model_*.zip``; CheckpointError for a missing, corrupt or
        foreign file."""
        path = Path(path)
        if not path.exists():
            raise CheckpointError(path, "file does not exist")
        if not path.is_file() or path.stat().st_size == 0:
            raise CheckpointError(path, "not a regular file" if not path.is_file() else "file is empty")
        try:
            model = load_saved(MaskablePPO, path, device=device)  # zips saved before the deep_arena root too
        except Exception as exc:  # noqa: BLE001 - SB3 raises many kinds for a bad zip
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise CheckpointError(path, f"is not a MaskablePPO model ({type(exc).__name__}: {detail})") from None
        settings = getattr(model, SETTINGS_ATTR, None)
        if not isinstance(settings, dict) or "env" not in settings:
            raise CheckpointError(path, "holds no molecule env settings (it was not saved by "
                                        "agents/molecule/ppo.py, e.g. a Go model)")
        policy = cls(model, settings, name=path.stem)
        try:
            env = policy.make_env()
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(path, f"has unusable env settings: {exc}") from None
        if env.observation_space != model.observation_space or env.action_space != model.action_space:
            raise CheckpointError(path, f"does not match its env settings: model {model.observation_space}, "
                                        f"{model.action_space}; env {env.observation_space}, {env.action_space}")
        env.close()
        return policy

    def make_env(self, objective: str | None = None, render_mode: str | None = None,
                 start_smiles: str | None = None):
        """A `MoleculeEnv` with the training settings; ``objective`` replaces the training objective (the
        observation does not depend on it)."""
        return _env_from_settings(self.settings, render_mode=render_mode, objective=objective,
                                  start_smiles=start_smiles)

    def act(self, env, obs) -> int:
        action, _ = self.model.predict(obs, action_masks=policy_mask(env, self.allow_stop), deterministic=True)
        return int(action)
