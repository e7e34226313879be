"""Every molecule optimiser on one oracle budget (PMO's protocol): ``optimize(score_fn, budget, method, seed)``.

``score_fn`` is a PMO task name (:data:`envs.molecule.pmo.TASK_NAMES`) or any ``score_fn(smiles) -> float`` a user
brings (a docking run, an assay model). It is wrapped in :class:`envs.molecule.pmo_oracle.Oracle`: each distinct
canonical molecule costs one call, repeats come from the cache, invalid SMILES score 0 and are not counted, and the
run stops when ``budget`` calls are spent. The returned :class:`CallLog` holds every call in order; ``.summary()``
gives PMO's metrics (AUC top-1/10/100, top-10 mean, diversity and SA of the top 100).

Methods:

* ``reinvent`` (:mod:`agents.reinvent`): the chemical language model fine-tuned by policy gradient; settings
  :class:`agents.reinvent.config.ReinventSettings`.
* ``augmem``: Augmented Memory (Guo & Schwaller 2024), REINVENT with their setting (:data:`AUGMEM_SETTINGS`:
  σ 500, two rounds of randomised-SMILES replay of the batch and memory per step, 10 replayed molecules, no
  likelihood penalty, diversity filter with selective memory purge); with σ 500 give it ``patience`` as PMO does.
* ``moldqn`` (:mod:`agents.moldqn`): MolDQN on ``arena/MoleculeDesign-v0`` whose ``reward_fn`` scores through the
  oracle (every molecule the agent steps into is a call; the start molecule too); settings
  :class:`agents.moldqn.config.MolDQNSettings` (``episodes`` only shapes the ε schedule: the run goes on until the
  budget is spent).
* ``ppo``: MaskablePPO on the same env (:mod:`agents.molecule.ppo`'s env and settings,
  :class:`agents.molecule.ppo_config.MoleculePPOSettings`).

TensorBoard (``writer``): ``pmo/top1``, ``pmo/top10_mean``, ``pmo/top100_mean`` against oracle calls, every 100
calls, so the top-10 curve shows live.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import torch

from deep_arena.envs.molecule.pmo_oracle import PATIENCE_MIN_CALLS, BudgetExhausted, CallLog, Oracle
from deep_arena.runtime import deep_merge

__all__ = ["METHODS", "USES_PRIOR", "AUGMEM_SETTINGS", "optimize", "make_oracle", "is_budget_stop"]

METHODS = ("reinvent", "augmem", "moldqn", "ppo")
USES_PRIOR = ("reinvent", "augmem")
AUGMEM_SETTINGS: dict[str, Any] = {"sigma": 500.0, "augmentation_rounds": 2, "replay": 10, "likelihood_penalty": 0.0,
                                   "diversity_filter": {"enabled": True, "purge_memory": True}}


def is_budget_stop(exc: BaseException) -> bool:
    """True when ``exc`` is, or was raised because of, :class:`BudgetExhausted` (the molecule env wraps reward
    errors in its own RewardError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, BudgetExhausted):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def make_oracle(score_fn: str | Callable[[str], float], budget: int, writer=None,
                minutes: float | None = None, patience: int | None = None,
                patience_min_calls: int = PATIENCE_MIN_CALLS) -> Oracle:
    """An :class:`Oracle` that, given a TensorBoard ``writer``, logs the top-k means every 100 calls."""
    on_log = None
    if writer is not None:
        def on_log(calls: int, log: CallLog) -> None:
            writer.add_scalar("pmo/top1", log.top_mean(1), calls)
            writer.add_scalar("pmo/top10_mean", log.top_mean(10), calls)
            writer.add_scalar("pmo/top100_mean", log.top_mean(100), calls)
    return Oracle(score_fn, budget, on_log=on_log, seconds=None if minutes is None else 60.0 * minutes,
                  patience=patience, patience_min_calls=patience_min_calls)


def optimize(score_fn: str | Callable[[str], float], budget: int = 10_000, method: str = "reinvent", seed: int = 0,
             settings: Mapping[str, Any] | None = None, prior: Any = "pretrained", writer=None,
             threads: int | None = 1, progress: Callable[[str], None] | None = None,
             minutes: float | None = None, patience: int | None = None,
             patience_min_calls: int = PATIENCE_MIN_CALLS) -> CallLog:
    """Run ``method`` against ``score_fn`` until ``budget`` oracle calls are spent; the call log (module docstring).

    ``settings``: the method's settings to override (a dict, checked by its typed Settings: a bad name or value is a
    ValueError naming it); ``prior``: REINVENT's prior, a ``ChemicalLM``, ``"pretrained"`` or a model path;
    ``threads``: torch CPU threads (1 suits a 2-core machine); ``progress(line)``: told a line now and then;
    ``minutes``: a wall-clock limit besides the budget (the run then ends early; PMO extends its AUC);
    ``patience``: end the run once this many requests in a row (repeats included) have not changed the top 100
    (PMO's early stop for a converged optimiser; :class:`Oracle`), counted from ``patience_min_calls`` calls on
    (PMO: 1,000). ``log.stop_reason`` says which limit ended it.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if threads:
        torch.set_num_threads(int(threads))
    oracle = make_oracle(score_fn, budget, writer, minutes, patience, patience_min_calls)
    settings = dict(settings or {})
    started, cpu_started = time.perf_counter(), time.process_time()
    if method in USES_PRIOR:
        if method == "augmem":
            settings = deep_merge(AUGMEM_SETTINGS, settings)   # the user's --set wins over the preset
        _reinvent(oracle, settings, prior, seed, writer)
    elif method == "moldqn":
        _moldqn(oracle, settings, seed, progress)
    else:
        _ppo(oracle, settings, seed)
    log = oracle.log
    log.stop_reason = oracle.stop_reason
    log.seconds = time.perf_counter() - started
    log.cpu_seconds = time.process_time() - cpu_started   # this process's CPU time: other jobs do not inflate it
    return log


def _reinvent(oracle: Oracle, settings: dict[str, Any], prior: Any, seed: int, writer) -> None:
    from deep_arena.agents.reinvent.config import ReinventSettings  # lazy: torch and the LM only for this method
    from deep_arena.agents.reinvent.optimizer import Reinvent  # lazy: see above

    if "prior" in settings and prior == "pretrained":
        prior = settings["prior"]
    checked = ReinventSettings.from_dict({**settings, "prior": prior if isinstance(prior, str) else "given"})

    def on_step(step: int, values: dict[str, float]) -> None:
        if writer is not None:
            for k, v in values.items():
                writer.add_scalar(f"reinvent/{k}", v, oracle.calls)

    Reinvent(prior, oracle, checked, seed=seed, on_step=on_step).run()


def _moldqn(oracle: Oracle, settings: dict[str, Any], seed: int, progress) -> None:
    from deep_arena.agents.moldqn import trainer as dqn  # lazy: torch only for this method

    base = {"episodes": max(oracle.budget // 20, 10), "seed": seed, "device": "cpu", "threads": 1}
    config = deep_merge(deep_merge(dqn.DEFAULTS, base), settings)
    trainer = dqn.MolDQNTrainer(config, None, reward_fn=oracle.mol_reward(), progress_bar=False)
    try:
        while not oracle.finished:
            result = trainer.run_episode()
            trainer.counters["episode"] += 1
            trainer.top.add(result["smiles"], result["score"])
            if progress is not None and trainer.counters["episode"] % 50 == 0:
                progress(f"moldqn episode {trainer.counters['episode']}: {oracle.calls} calls, "
                         f"top-10 mean {oracle.log.top_mean(10):.3f}")
    except Exception as exc:  # noqa: BLE001 - the env wraps the oracle's BudgetExhausted in a RewardError
        if not is_budget_stop(exc):
            raise


def _ppo(oracle: Oracle, settings: dict[str, Any], seed: int) -> None:
    from sb3_contrib import MaskablePPO  # lazy: SB3 only for this method
    from stable_baselines3.common.vec_env import DummyVecEnv  # lazy: see above

    from deep_arena.agents.molecule import ppo as molecule_ppo  # lazy: see above

    base = {"seed": seed, "device": "cpu", "threads": 1}
    config = deep_merge(deep_merge(molecule_ppo.DEFAULTS, base), settings)
    molecule_ppo.validate_config(config)
    env_settings = molecule_ppo.env_settings(config)
    reward_fn = oracle.mol_reward()
    venv = DummyVecEnv([lambda: molecule_ppo._training_env(config, env_settings, reward_fn)
                        for _ in range(config["n_envs"])])
    try:
        venv.seed(seed)
        model = MaskablePPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0,
                            policy_kwargs={"net_arch": list(config["net_arch"])}, **config["ppo"])
        model.learn(total_timesteps=10**12)   # the oracle's budget ends it
    except Exception as exc:  # noqa: BLE001 - the env wraps the oracle's BudgetExhausted in a RewardError
        if not is_budget_stop(exc):
            raise
    finally:
        venv.close()
