"""MaskablePPO (sb3-contrib) baseline on `arena/MoleculeDesign-v0`.

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
  ``scripts/play.py molecule``) rebuild a matching env.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from deep_arena.agents.molecule.outputs import TopMolecules, write_top_molecules
from deep_arena.runtime import CheckpointError, RunDir, prepare_training, resolve_device
from deep_arena.runtime.legacy_names import legacy_module_names

ENV_ID = "arena/MoleculeDesign-v0"
SETTINGS_ATTR = "arena_molecule"  # attribute saved inside the SB3 zip: the env settings of the run

DEFAULTS: dict[str, Any] = {
    "objective": "qed",
    "delta": 0.4,           # sim_plogp: similarity threshold
    "target": None,         # similarity: target SMILES
    "weights": None,        # multi: {"qed": 0.5, ...}
    "start_smiles": "C",    # one SMILES, or a list
    "start_file": None,     # a file with one SMILES per line (overrides start_smiles)
    "total_steps": 200_000,
    "minutes": None,        # wall-clock budget on top of total_steps
    "env": {"atom_types": ["C", "N", "O"], "valences": {}, "ring_sizes": [5, 6], "max_atoms": 38, "max_steps": 40,
            "obs_type": "fingerprint", "fp_radius": 3, "fp_bits": 1024, "reward_mode": "every_step",
            "discount": 0.9, "allow_stop": False},
    "ppo": {
        "n_steps": 256,        # per env and rollout (x n_envs steps per update)
        "batch_size": 256,
        "n_epochs": 4,
        "learning_rate": 3.0e-4,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "clip_range": 0.2,
        "ent_coef": 0.01,
    },
    "net_arch": [256, 256],    # hidden layers of the policy and of the value network (separate)
    "n_envs": 8,
    "eval_every": 20_000,      # env steps
    "eval_episodes": 4,        # deterministic episodes, one per start molecule (at most the number of starts)
    "checkpoint_every": 50_000,
    "top_k": 10,
    "gan_reward": None,     # a GAN generator file or "pretrained": reward = λ·D + (1 − λ)·objective (train_molecule.py)
    "gan_lambda": 0.3,
    "threads": None,           # torch CPU threads; default all cores
}


# --- config -------------------------------------------------------------------------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_config(config: dict[str, Any]) -> None:
    """ValueError naming the first bad setting (before a run directory exists). The env's own settings (atom
    types, SMILES, objective) are checked by :func:`make_env`."""
    def positive_int(key: str, value: Any, allow_none: bool = False) -> None:
        if value is None and allow_none:
            return
        if not _is_int(value) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")

    for key in ("total_steps", "n_envs", "eval_every", "eval_episodes", "checkpoint_every", "top_k"):
        positive_int(key, config[key])
    positive_int("threads", config["threads"], allow_none=True)
    minutes = config["minutes"]
    if minutes is not None and not (_is_number(minutes) and minutes > 0):
        raise ValueError(f"minutes must be a positive number, got {minutes!r}")
    ppo = config["ppo"]
    for key in ("n_steps", "n_epochs"):
        positive_int(f"ppo.{key}", ppo[key])
    if not _is_int(ppo["batch_size"]) or ppo["batch_size"] < 2:
        raise ValueError(f"ppo.batch_size must be an integer >= 2, got {ppo['batch_size']!r}")
    if not (_is_number(ppo["learning_rate"]) and ppo["learning_rate"] > 0):
        raise ValueError(f"ppo.learning_rate must be a positive number, got {ppo['learning_rate']!r}")
    for key in ("gamma", "gae_lambda"):
        if not (_is_number(ppo[key]) and 0 <= ppo[key] <= 1):
            raise ValueError(f"ppo.{key} must be in [0, 1], got {ppo[key]!r}")
    if not (_is_number(ppo["clip_range"]) and ppo["clip_range"] > 0):
        raise ValueError(f"ppo.clip_range must be a positive number, got {ppo['clip_range']!r}")
    if not (_is_number(ppo["ent_coef"]) and ppo["ent_coef"] >= 0):
        raise ValueError(f"ppo.ent_coef must be a non-negative number, got {ppo['ent_coef']!r}")
    arch = config["net_arch"]
    if not isinstance(arch, (list, tuple)) or not arch or any(not _is_int(h) or h < 1 for h in arch):
        raise ValueError(f"net_arch must be a non-empty list of positive integers, got {arch!r}")
    env = config["env"]
    if env["obs_type"] not in ("fingerprint", "graph"):
        raise ValueError(f"env.obs_type must be 'fingerprint' or 'graph', got {env['obs_type']!r}")
    if env["reward_mode"] not in ("every_step", "final"):
        raise ValueError(f"env.reward_mode must be 'every_step' or 'final', got {env['reward_mode']!r}")
    if not isinstance(env["allow_stop"], bool):
        raise ValueError(f"env.allow_stop must be true or false, got {env['allow_stop']!r}")
    for key in ("max_atoms", "max_steps", "fp_bits"):
        positive_int(f"env.{key}", env[key])


def env_settings(config: dict[str, Any]) -> dict[str, Any]:
    """What a player needs to rebuild the training env (JSON-serialisable; stored in the model zip)."""
    from deep_arena.agents.moldqn.trainer import load_start_smiles  # the one start-file reader, shared with MolDQN

    objective = config["objective"]
    kwargs = {k: config[k] for k in ("delta", "target", "weights") if config.get(k) is not None}
    if objective != "sim_plogp":
        kwargs.pop("delta", None)
    return {
        "objective": objective if isinstance(objective, str) else "custom",
        "objective_kwargs": kwargs,
        "start_smiles": load_start_smiles(config),
        "env": copy.deepcopy(dict(config["env"])),
    }


def _env_from_settings(settings: dict[str, Any], render_mode: str | None = None, objective: Any = None,
                       objective_kwargs: dict[str, Any] | None = None, start_smiles: Any = None, reward_fn=None):
    from deep_arena.envs.molecule.env import MoleculeEnv

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
    from stable_baselines3.common.monitor import Monitor

    env: gym.Env = _env_from_settings(settings, reward_fn=reward_fn)
    if not config["env"]["allow_stop"]:
        env = NoStopMask(env)
    return Monitor(env)


def _policy_name(config: dict[str, Any]) -> str:
    return "MultiInputPolicy" if config["env"]["obs_type"] == "graph" else "MlpPolicy"


# --- training -----------------------------------------------------------------------------------------------------

def train(config: dict[str, Any], run_dir: RunDir, progress_bar: bool = True, reward_fn=None) -> dict[str, Any]:
    """Train MaskablePPO with ``config`` (see DEFAULTS), logging and saving into ``run_dir``.

    Returns ``{"top": [(score, smiles), ...] best first, "seconds", "steps", "episodes", "model_path"}``.
    """
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Image, configure
    from stable_baselines3.common.vec_env import DummyVecEnv
    from rdkit import Chem

    validate_config(config)
    device = prepare_training(config)
    settings = env_settings(config)
    allow_stop = config["env"]["allow_stop"]
    venv = DummyVecEnv([lambda: _training_env(config, settings, reward_fn) for _ in range(config["n_envs"])])
    venv.seed(config["seed"])
    eval_env = _env_from_settings(settings, reward_fn=reward_fn)
    model = MaskablePPO(_policy_name(config), venv, seed=config["seed"], device=device, verbose=0,
                        policy_kwargs={"net_arch": list(config["net_arch"])}, **config["ppo"])
    setattr(model, SETTINGS_ATTR, settings)
    model.set_logger(configure(str(run_dir.path), ["tensorboard"]))
    top = TopMolecules(config["top_k"])
    started = time.perf_counter()

    class MoleculeCallback(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next_eval = config["eval_every"]
            self.next_ckpt = config["checkpoint_every"]
            self.window: list[tuple[float, float, bool]] = []  # (return, final score, valid) since the last log
            self.final_smiles: list[str] = []                  # recent final molecules (uniqueness)
            self.episodes = 0
            self.last_time, self.last_steps = time.perf_counter(), 0

        def _on_step(self) -> bool:
            for done, info in zip(self.locals["dones"], self.locals["infos"]):
                if done:
                    self.episode_end(info)
            if self.num_timesteps >= self.next_eval:
                self.next_eval += config["eval_every"]
                self.evaluate()
            if self.num_timesteps >= self.next_ckpt:
                self.next_ckpt += config["checkpoint_every"]
                model.save(run_dir.checkpoints_dir / f"model_{self.num_timesteps:09d}.zip")
                self.write_outputs()
            if config["minutes"] is not None and time.perf_counter() - started > 60.0 * config["minutes"]:
                return False
            return True

        def episode_end(self, info: dict[str, Any]) -> None:
            smiles, score = info["smiles"], float(info["score"])
            valid = Chem.MolFromSmiles(smiles) is not None
            ret = float(info["episode"]["r"]) if "episode" in info else float("nan")
            self.window.append((ret, score, valid))
            self.final_smiles = (self.final_smiles + [smiles])[-100:]
            self.episodes += 1
            if valid:
                top.add(smiles, score)

        def _on_rollout_end(self) -> None:
            self.log_window()

        def log_window(self) -> None:
            log = self.logger
            if self.window:
                returns, scores, valid = (np.array(v, dtype=np.float64) for v in zip(*self.window))
                log.record("episode/return", float(np.nanmean(returns)) if np.isfinite(returns).any() else 0.0)
                log.record("episode/final_score", float(scores.mean()))
                log.record("episode/validity", float(valid.mean()))
                self.window = []
            if self.final_smiles:
                log.record("episode/uniqueness_last100", len(set(self.final_smiles)) / len(self.final_smiles))
            log.record("episode/count", self.episodes)
            for k, (score, _) in enumerate(top.best()[:3], 1):
                log.record(f"top/top{k}", score)
            now = time.perf_counter()
            if now > self.last_time and self.num_timesteps > self.last_steps:
                log.record("speed/env_steps_per_s", (self.num_timesteps - self.last_steps) / (now - self.last_time))
            self.last_time, self.last_steps = now, self.num_timesteps

        def evaluate(self) -> list[tuple[float, str]]:
            results = [play_episode(model, eval_env, allow_stop, start)
                       for start in settings["start_smiles"][: config["eval_episodes"]]]
            for score, smiles in results:
                top.add(smiles, score)
            scores = [s for s, _ in results]
            self.logger.record("eval/final_score", float(np.mean(scores)))
            self.logger.record("eval/best_score", float(np.max(scores)))
            return results

        def write_outputs(self) -> None:
            grid = write_top_molecules(run_dir.path, top.best())
            if grid is not None:
                self.logger.record("top_molecules", Image(grid, "HWC"), exclude=("stdout", "log", "json", "csv"))

    callback = MoleculeCallback()
    try:
        model.learn(total_timesteps=config["total_steps"], callback=callback, progress_bar=progress_bar)
        callback.evaluate()
        if callback.window:  # episodes since the last rollout's log
            callback.log_window()
        callback.write_outputs()
        model.logger.dump(model.num_timesteps)
        model_path = run_dir.path / "final_model.zip"
        model.save(model_path)
    finally:
        venv.close()
        eval_env.close()
        model.logger.close()
    return {"top": top.best(), "seconds": time.perf_counter() - started, "steps": int(model.num_timesteps),
            "episodes": callback.episodes, "model_path": str(model_path)}


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
        from sb3_contrib import MaskablePPO

        try:
            with legacy_module_names():  # zips saved before the deep_arena root
                model = MaskablePPO.load(str(path), device=resolve_device(device))
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
