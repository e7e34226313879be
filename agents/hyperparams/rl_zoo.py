"""The arm's hyperparameters in rl-zoo's format (``rl_zoo3.train -conf FILE``), generated from our own files.

``agents/hyperparams/<algo>.yml`` (our format, read by ``agents/arm/config.py``) is the one source of truth;
``agents/hyperparams/rl_zoo/<algo>.yml`` are generated from it and committed (tests/agents/test_rl_zoo.py checks that
they match). Regenerate them after editing our files with::

    python -m deep_arena.agents.hyperparams.rl_zoo          # writes agents/hyperparams/rl_zoo/*.yml
    python -m deep_arena.agents.hyperparams.rl_zoo --check  # exit 1 if a committed file is stale

and train with rl-zoo (``pip install -e '.[zoo]'``)::

    python -m rl_zoo3.train --algo tqc --env arena/ArmPush-v0 --gym-packages deep_arena.envs \\
        -conf agents/hyperparams/rl_zoo/tqc.yml

Mapping (our key -> rl-zoo's): ``total_steps`` -> ``n_timesteps``; ``policy``, ``n_envs`` and the ``model`` entries
(``learning_rate``, ``buffer_size``, ``batch_size``, ``gamma``, ``tau``, ``learning_starts``, PPO's ``n_steps``...)
keep their names; ``policy_kwargs`` and ``her_kwargs`` become ``"dict(...)"`` strings; ``her: true`` ->
``replay_buffer_class: HerReplayBuffer`` with ``replay_buffer_kwargs``; ``action_noise_sigma`` -> ``noise_type:
normal`` + ``noise_std``; a non-default ``reward_type`` / ``control`` / ``env_kwargs`` -> ``env_kwargs``. Our
evaluation and checkpoint cadence (``eval_every``, ``eval_episodes``, ``checkpoint_every``) are rl-zoo command-line
flags (``--eval-freq``, ``--eval-episodes``, ``--save-freq``), not hyperparameters; ``vec_env: subproc`` is
``--vec-env subproc``. The arm trainer's own extras (Goal GAN curriculum, expert start, frame strips) have no rl-zoo
counterpart; the shipped files set none of them, and :func:`to_rl_zoo` refuses an entry that does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from deep_arena.agents.arm.config import DEFAULTS, TASKS, default_config
from deep_arena.agents.hyperparams import HYPERPARAMS_DIR

__all__ = ["ALGOS", "RL_ZOO_DIR", "dump", "rl_zoo_entry", "to_rl_zoo", "write", "stale"]

RL_ZOO_DIR = HYPERPARAMS_DIR / "rl_zoo"
ALGOS = ("tqc", "sac", "td3", "ppo")

# ArmEnv's own defaults: env_kwargs carry only what differs from them.
_ENV_DEFAULTS = {"reward_type": "sparse", "control": "ee"}


def _py(value: Any) -> str:
    """A Python literal for rl-zoo's ``"dict(...)"`` strings (evaluated by rl-zoo with ``eval``)."""
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{k}={_py(v)}" for k, v in value.items()) + ")"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    return repr(value)


def rl_zoo_entry(config: dict[str, Any]) -> dict[str, Any]:
    """One env id's rl-zoo entry from an arm trainer config (``agents.arm.config.default_config``'s result)."""
    for key in ("curriculum",):
        if config.get(key):
            raise ValueError(f"{key}={config[key]!r} has no rl-zoo counterpart")
    if config.get("expert", {}).get("episodes"):
        raise ValueError("the expert start (expert.episodes > 0) has no rl-zoo counterpart")

    entry: dict[str, Any] = {"n_timesteps": int(config["total_steps"]), "policy": config["policy"]}
    if config.get("n_envs", 1) != 1:
        entry["n_envs"] = int(config["n_envs"])
    model = dict(config.get("model") or {})
    policy_kwargs = model.pop("policy_kwargs", None)
    entry.update(model)
    if config.get("her"):
        entry["replay_buffer_class"] = "HerReplayBuffer"
        her_kwargs = config.get("her_kwargs") or DEFAULTS["her_kwargs"]
        entry["replay_buffer_kwargs"] = _py(her_kwargs)
    if config.get("action_noise_sigma") is not None:
        entry["noise_type"] = "normal"
        entry["noise_std"] = float(config["action_noise_sigma"])
    if policy_kwargs:
        entry["policy_kwargs"] = _py(policy_kwargs)
    env_kwargs = {k: config[k] for k, default in _ENV_DEFAULTS.items() if config.get(k, default) != default}
    env_kwargs.update(config.get("env_kwargs") or {})
    if env_kwargs:
        entry["env_kwargs"] = env_kwargs
    return entry


def to_rl_zoo(algo: str) -> dict[str, dict[str, Any]]:
    """rl-zoo's hyperparameter mapping for ``algo``: env id -> entry, for every arm task (ours: ``<algo>.yml``)."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; choose from {', '.join(ALGOS)}")
    return {env: rl_zoo_entry(default_config(task, algo)) for task, env in TASKS.items()}


def dump(algo: str) -> str:
    """The text of ``rl_zoo/<algo>.yml``: a header, then :func:`to_rl_zoo` as YAML (key order kept)."""
    header = (f"# GENERATED from agents/hyperparams/{algo}.yml by agents/hyperparams/rl_zoo.py: do not edit; run\n"
              f"# `python -m deep_arena.agents.hyperparams.rl_zoo` after changing {algo}.yml.\n"
              f"# rl-zoo's format: python -m rl_zoo3.train --algo {algo} --env arena/ArmPush-v0 "
              f"--gym-packages deep_arena.envs -conf agents/hyperparams/rl_zoo/{algo}.yml\n")
    body = yaml.safe_dump(to_rl_zoo(algo), sort_keys=False, default_flow_style=False, width=120)
    return header + body


def write(algos: tuple[str, ...] = ALGOS, directory: Path = RL_ZOO_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for algo in algos:
        path = directory / f"{algo}.yml"
        path.write_text(dump(algo), encoding="utf-8")
        paths.append(path)
    return paths


def stale(algos: tuple[str, ...] = ALGOS, directory: Path = RL_ZOO_DIR) -> list[str]:
    """The algorithms whose committed rl-zoo file is missing or differs from :func:`dump`."""
    out = []
    for algo in algos:
        path = directory / f"{algo}.yml"
        if not path.is_file() or path.read_text(encoding="utf-8") != dump(algo):
            out.append(algo)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        for algo in bad:
            print(f"stale: {RL_ZOO_DIR / (algo + '.yml')}", file=sys.stderr)
        return 1 if bad else 0
    for path in write():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
