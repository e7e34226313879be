"""MolDQN (Zhou et al., 2019): double DQN over the *next states* of `arena/MoleculeDesign-v0`.

Each step the agent asks the env for every distinct molecule one valid edit away (`MoleculeEnv.next_states()`),
scores each with ``Q(fingerprint(s'), steps left)`` and picks one ε-greedily (with bootstrapped heads: greedily with
the episode's head after ε). The transition stored is ``(features of s', reward, done, features of s'*)`` where
``s'*`` is the candidate the online network ranked best when the agent stood in ``s'``.

Bootstrap targets (a CPU-friendly departure from MolDQN, said plainly): MolDQN stores every candidate of the next
step and, at each update, lets the online network pick the best and the target network value it (hundreds of
fingerprints per transition). We keep only the candidate the online network picked at collection time, ``s'*``, and
``target_values`` says when it is valued:

* ``"update"``: by the *current* target network at every update, ``r + γ (1 − done) · Q_target(s'*)``. Fresh, but
  with ``gamma`` 1 it diverged on QED (Q ≈ 58 where returns are ≤ 10): the network barely tells the steps left
  apart, so each bootstrap adds a reward on top of a value of the same size. Use it with ``gamma`` < 1 (0.9 worked).
* ``"collection"`` (the default, and what the pLogP and constrained results in the README used): once, by the target
  network as it was when the agent stood in ``s'``, and stored. Staler, and slower to run away.

Updates regress ``Q_online(s')`` on that target (Huber loss).

Elite restarts (``restart.prob`` > 0, off by default; not in MolDQN): Go-Explore's "return, then explore". The run
keeps the ``restart.elites`` best distinct episodes it has played, each as its reset seed and its list of edits.
With probability ``prob`` an episode resets with an elite's seed and replays a random prefix of its edits (at least
one edit and never all of them), then acts as usual. The env is deterministic, so the replay passes through the
elite's own states with its own step count: every molecule is still built from the start molecule in at most
``max_steps`` edits, and the replayed transitions are real ones, stored and learnt from like any other. What changes
is only where exploration spends its episodes: near the best molecules found so far.

Checkpoints hold both networks, the optimizer, the replay buffer, the top molecules, counters and RNG states;
``--resume`` continues the run and its TensorBoard curves.

`MolDQNTrainer` follows the trainer protocol (``runtime.trainer``): built from a config whose settings, defaults and
bounds are ``agents.moldqn.config.MolDQNSettings``, ``load(checkpoint)`` to resume, ``run()`` returning a
``RunResult``.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from deep_arena.agents.moldqn.config import MolDQNSettings
from deep_arena.agents.moldqn.network import QNetwork, candidate_features
from deep_arena.agents.molecule.evaluation import read_smiles_file
from deep_arena.agents.molecule.outputs import TopMolecules, write_top_molecules
from deep_arena.envs.molecule.env import MoleculeEnv
from deep_arena.runtime import (CheckpointError, RunDir, deep_merge, load_checkpoint, make_writer, prepare_training,
                                progress, save_checkpoint)
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.trainer import RunResult

DEFAULTS: dict[str, Any] = MolDQNSettings.defaults()  # device and seed included; --set names: config.py


def validate_config(config: dict[str, Any]) -> None:
    """ValueError naming the first bad setting (before a run directory exists)."""
    MolDQNSettings.from_dict(config)


def load_start_smiles(config: dict[str, Any]) -> list[str]:
    """The start molecules: ``start_file`` (one SMILES per line, first column) or ``start_smiles``."""
    if config["start_file"]:
        return read_smiles_file(config["start_file"])
    start = config["start_smiles"]
    return [start] if isinstance(start, str) else list(start)


def make_env(config: dict[str, Any], reward_fn=None, start_smiles: list[str] | None = None, render_mode=None):
    """The molecule env a MolDQN config describes (by default MolDQN's every-step reward, discounted by steps
    left; ``env.reward_mode: final`` with ``allow_stop: true`` pays only the molecule the agent stops at)."""
    e = config["env"]
    kwargs = {k: config[k] for k in ("delta", "target", "weights") if config.get(k) is not None}
    if config["objective"] != "sim_plogp":
        kwargs.pop("delta", None)
    return MoleculeEnv(
        objective=config["objective"], objective_kwargs=kwargs, reward_fn=reward_fn,
        start_smiles=start_smiles or load_start_smiles(config), atom_types=tuple(e["atom_types"]),
        valences=e["valences"], ring_sizes=tuple(e["ring_sizes"]), max_atoms=e["max_atoms"],
        max_steps=e["max_steps"], fp_radius=e["fp_radius"], fp_bits=e["fp_bits"], discount=e["discount"],
        reward_mode=e["reward_mode"], render_mode=render_mode)


class Replay:
    """Ring buffer of transitions with packed fingerprints."""

    def __init__(self, capacity: int, fp_bits: int, heads: int):
        self.capacity = capacity
        self.fp_bits = fp_bits
        self.fps = np.zeros((capacity, (fp_bits + 7) // 8), dtype=np.uint8)
        self.steps_left = np.zeros(capacity, dtype=np.float32)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.done = np.zeros(capacity, dtype=np.float32)
        self.bootstrap = np.zeros(capacity, dtype=np.float32)    # target_values="collection": Q_target(s'*) then
        self.next_fps = np.zeros((capacity, (fp_bits + 7) // 8), dtype=np.uint8)   # s'*, see the module docstring
        self.next_steps_left = np.zeros(capacity, dtype=np.float32)
        self.head_mask = np.ones((capacity, heads), dtype=np.float32)
        self.size = 0
        self.next = 0
        self.incomplete: int | None = None   # the newest transition while its s'* is not known yet

    def add(self, fp: np.ndarray, steps_left: float, reward: float, done: bool, head_mask: np.ndarray) -> int:
        i = self.next
        self.fps[i] = np.packbits(fp)
        self.steps_left[i] = steps_left
        self.reward[i] = reward
        self.done[i] = float(done)
        self.bootstrap[i] = 0.0
        self.next_fps[i] = 0
        self.next_steps_left[i] = 0.0
        self.head_mask[i] = head_mask
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)
        self.incomplete = None if done else i
        return i

    def sample(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Uniform indices over the complete transitions (the newest one waits for its s'*)."""
        if self.incomplete is None:
            return rng.integers(self.size, size=batch_size)
        idx = rng.integers(self.size - 1, size=batch_size)
        idx[idx >= self.incomplete] += 1
        return idx

    def set_next(self, i: int, fp: np.ndarray, steps_left: float, value: float = 0.0) -> None:
        """Record ``s'*`` of transition ``i`` (the candidate the online network ranked best one step later) and the
        target network's value of it now."""
        self.bootstrap[i] = value
        self.next_fps[i] = np.packbits(fp)
        self.next_steps_left[i] = steps_left
        if self.incomplete == i:
            self.incomplete = None

    def features(self, idx: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(self.fps[idx], axis=1, count=self.fp_bits).astype(np.float32)
        return np.concatenate([bits, self.steps_left[idx, None]], axis=1)

    def next_features(self, idx: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(self.next_fps[idx], axis=1, count=self.fp_bits).astype(np.float32)
        return np.concatenate([bits, self.next_steps_left[idx, None]], axis=1)

    def state_dict(self) -> dict[str, Any]:
        n = self.size
        return {"fps": self.fps[:n], "steps_left": self.steps_left[:n], "reward": self.reward[:n],
                "done": self.done[:n], "bootstrap": self.bootstrap[:n], "next_fps": self.next_fps[:n],
                "next_steps_left": self.next_steps_left[:n], "head_mask": self.head_mask[:n],
                "next": self.next, "size": n}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = int(state["size"])
        if n > self.capacity:
            raise CheckpointError("replay", f"holds {n} transitions, more than replay_capacity={self.capacity}")
        for key in ("fps", "steps_left", "reward", "done", "bootstrap", "next_fps", "next_steps_left", "head_mask"):
            if key not in state and key in ("bootstrap", "next_fps", "next_steps_left"):
                continue   # written before this field existed: the scheme that run used did not need it
            value = state[key].numpy() if torch.is_tensor(state[key]) else np.asarray(state[key])
            getattr(self, key)[:n] = value
        self.size, self.next = n, int(state["next"]) % self.capacity


class MolDQNTrainer:
    """Train MolDQN on one objective; write TensorBoard logs, checkpoints, top molecules (CSV + PNG) and
    ``model.pt`` into ``run_dir``."""

    def __init__(self, config: dict[str, Any], run_dir: RunDir | None, reward_fn=None, progress_bar: bool = True):
        config = deep_merge(DEFAULTS, config)   # a run saved before a setting existed resumes with its old default
        validate_config(config)
        self.config = config
        self.run_dir = run_dir
        self.progress_bar = progress_bar
        self.device = prepare_training(config)
        self.rng = np.random.default_rng(int(config["seed"]))
        self.env = make_env(config, reward_fn=reward_fn)
        fp_bits = config["env"]["fp_bits"]
        self.q = QNetwork(fp_bits + 1, config["net"]["hidden"], config["net"]["heads"]).to(self.device)
        self.q_target = copy.deepcopy(self.q).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=config["lr"], fused=True)  # fused: 7x faster step on CPU
        self.replay = Replay(config["replay_capacity"], fp_bits, config["net"]["heads"])
        self.top = TopMolecules(config["top_k"])
        # elite restarts: the best distinct episodes, each with its (reset seed, edits) as payload
        self.elites = TopMolecules(config["restart"]["elites"])
        self.counters = {"episode": 0, "env_steps": 0, "updates": 0, "seconds": 0.0}
        self.final_smiles: list[str] = []   # final molecules of recent episodes (uniqueness)
        self.writer = None
        #: ``(episode, evaluation) -> bool`` after each evaluation (``eval_every``); False stops the run
        #: (``stopped_by="pruned"``): arena-tune's pruner (runtime.tuning.TrialReporter)
        self.on_evaluation = None
        self.last_evaluation: dict[str, Any] | None = None

    # --- acting -------------------------------------------------------------------------------------------------

    def epsilon(self) -> float:
        eps = self.config["epsilon"]
        episodes, episode = self.config["episodes"], self.counters["episode"]
        first = max(1.0, eps["decay_fraction"] * episodes)
        if eps.get("mid") is None:
            return float(eps["start"] + min(episode / first, 1.0) * (eps["end"] - eps["start"]))
        if episode < first:
            return float(eps["start"] + episode / first * (eps["mid"] - eps["start"]))
        frac = (episode - first) / max(1.0, episodes - first)
        return float(eps["mid"] + min(frac, 1.0) * (eps["end"] - eps["mid"]))

    def run_episode(self, explore: bool = True) -> dict[str, Any]:
        env = self.env
        heads = self.config["net"]["heads"]
        head = int(self.rng.integers(heads))
        eps = self.epsilon() if explore else 0.0
        seed, prefix = int(self.rng.integers(2**31)), []
        if explore and len(self.elites) and self.rng.random() < self.config["restart"]["prob"]:
            elites = self.elites.best()
            seed, elite_actions = self.elites.payload(elites[int(self.rng.integers(len(elites)))][1])
            if len(elite_actions) > 1:
                prefix = elite_actions[: int(self.rng.integers(1, len(elite_actions)))]
        _, info = env.reset(seed=seed)
        actions: list[int] = []
        pending: int | None = None   # replay index whose s'* is the online network's best of this step's candidates
        total_reward, losses = 0.0, []
        done = False
        while not done:
            cand = env.next_states()
            if not self.config["allow_stop"] and len(cand["actions"]) > 1:
                cand = {k: v[:-1] for k, v in cand.items()}  # the stop entry is last
            x_np = candidate_features(cand["fingerprints"], cand["stop"], env.steps_left, env.max_steps)
            x = torch.from_numpy(x_np).to(self.device)
            with torch.no_grad():
                q_online = self.q(x)
            if pending is not None:
                best = int(q_online[:, head].argmax())      # double DQN: online picks now, target values at update
                value = 0.0
                if self.config["target_values"] == "collection":
                    with torch.no_grad():
                        value = float(self.q_target(x[best : best + 1])[0, head])
                self.replay.set_next(pending, cand["fingerprints"][best], float(x_np[best, -1]), value)
            if len(actions) < len(prefix):
                matches = np.flatnonzero(cand["actions"] == prefix[len(actions)])
                if len(matches) == 0:   # the env is deterministic, so this means it changed under a saved run
                    raise RuntimeError(f"elite restart: edit {prefix[len(actions)]} of a stored episode is not "
                                       f"available at step {len(actions)} (was the env changed?)")
                pick = int(matches[0])
            elif explore and self.rng.random() < eps:
                pick = int(self.rng.integers(len(cand["actions"])))
            else:
                pick = int(q_online[:, head].argmax())
            actions.append(int(cand["actions"][pick]))
            _, reward, terminated, truncated, info = env.step(actions[-1])
            done = terminated or truncated
            total_reward += reward
            if explore:
                mask = (self.rng.random(heads) < self.config["bootstrap_mask_prob"]).astype(np.float32) \
                    if heads > 1 else np.ones(1, dtype=np.float32)
                pending = self.replay.add(cand["fingerprints"][pick], float(x_np[pick, -1]), reward,
                                          done, mask)
                self.counters["env_steps"] += 1
                if (self.replay.size >= max(2, self.config["learning_starts"])
                        and self.counters["env_steps"] % self.config["train_every"] == 0):
                    losses.append(self.update())
        return {"smiles": info["smiles"], "score": info["score"], "return": total_reward,
                "loss": float(np.mean(losses)) if losses else None, "epsilon": eps,
                "seed": seed, "actions": actions, "replayed": len(prefix)}


    # --- learning -----------------------------------------------------------------------------------------------

    def update(self) -> float:
        cfg = self.config
        idx = self.replay.sample(self.rng, cfg["batch_size"])
        x = torch.from_numpy(self.replay.features(idx)).to(self.device)
        r = torch.from_numpy(self.replay.reward[idx]).to(self.device)
        done = torch.from_numpy(self.replay.done[idx]).to(self.device)
        mask = torch.from_numpy(self.replay.head_mask[idx]).to(self.device)
        with torch.no_grad():
            if cfg["target_values"] == "update":
                boot = self.q_target(torch.from_numpy(self.replay.next_features(idx)).to(self.device))  # (batch, heads)
            else:
                boot = torch.from_numpy(self.replay.bootstrap[idx]).to(self.device)[:, None]
            target = r[:, None] + cfg["gamma"] * (1.0 - done[:, None]) * boot
        q = self.q(x)
        loss = (F.smooth_l1_loss(q, target.expand_as(q), reduction="none") * mask).sum() / mask.sum().clamp(min=1)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"MolDQN loss became {loss.item()} at update {self.counters['updates']}; "
                                     f"lower lr (now {cfg['lr']}) or check the objective's values")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.q.parameters(), cfg["grad_clip"])
        self.optimizer.step()
        with torch.no_grad():
            for p, pt in zip(self.q.parameters(), self.q_target.parameters()):
                pt.mul_(cfg["polyak"]).add_(p, alpha=1.0 - cfg["polyak"])
        self.counters["updates"] += 1
        return loss.item()

    # --- the loop -----------------------------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Train until ``episodes`` or ``minutes`` (the run's training time, across resumes) is reached, checkpoint,
        and report (see :meth:`result`). Ctrl-C / SIGTERM stops after the episode in progress (checkpoint, model and
        top molecules saved; ``stopped_by="interrupt"``)."""
        if self.run_dir is None:
            raise ValueError("MolDQNTrainer.run needs a run directory")
        cfg = self.config
        start_episode = self.counters["episode"]
        self.writer = make_writer(self.run_dir.path, purge_step=start_episode or None)
        budget = cfg["minutes"] * 60.0 if cfg["minutes"] else math.inf
        started = time.perf_counter()
        seconds_before = self.counters["seconds"]
        stopped_by = "budget"
        window: list[dict[str, Any]] = []
        steps_at_window, time_at_window = self.counters["env_steps"], time.perf_counter()
        with progress(total=cfg["episodes"], initial=start_episode, desc="moldqn", unit="ep",
                      disable=not self.progress_bar) as bar, GracefulStop() as stop:
            while self.counters["episode"] < cfg["episodes"]:
                if stop.requested:
                    stopped_by = "interrupt"
                    break
                if seconds_before + time.perf_counter() - started >= budget:
                    stopped_by = "minutes"
                    break
                result = self.run_episode()
                self.counters["episode"] += 1
                self.counters["seconds"] = seconds_before + time.perf_counter() - started
                self.top.add(result["smiles"], result["score"])
                if cfg["restart"]["prob"] > 0:
                    self.elites.add(result["smiles"], result["score"], (result["seed"], result["actions"]))
                self.final_smiles = (self.final_smiles + [result["smiles"]])[-1000:]
                window.append(result)
                bar.update(1)
                best = self.top.best()
                bar.set_postfix(score=f"{result['score']:.3f}", best=f"{best[0][0]:.3f}" if best else "-")
                ep = self.counters["episode"]
                if ep % cfg["log_every"] == 0:
                    now = time.perf_counter()
                    self._log(window, (self.counters["env_steps"] - steps_at_window) / max(now - time_at_window, 1e-9))
                    window, steps_at_window, time_at_window = [], self.counters["env_steps"], now
                if ep % cfg["checkpoint_every"] == 0:
                    self.save_checkpoint()
                    self.write_outputs(image_to_tb=True)
                if cfg["eval_every"] and ep % cfg["eval_every"] == 0:
                    evaluation = self.evaluate()
                    if self.on_evaluation is not None and not self.on_evaluation(ep, evaluation):
                        stopped_by = "pruned"
                        break
        if window:
            self._log(window, None)
        if (cfg["eval_every"] and stopped_by not in ("interrupt", "pruned")
                and (self.last_evaluation or {}).get("episode") != self.counters["episode"]):
            self.evaluate()  # the final figure (eval_score) is that of the final network
        self.save_checkpoint()
        self.write_outputs(image_to_tb=True)
        self.writer.close()
        return self.result(stopped_by)

    def evaluate(self) -> dict[str, Any]:
        """``eval_episodes`` greedy episodes (no exploration; nothing stored or learned), drawn from a generator of
        their own so that the training's random draws stay the same; logged as ``eval/mean_score`` and
        ``eval/best_score`` at the current episode and kept in :attr:`last_evaluation`."""
        ep = self.counters["episode"]
        training_rng, self.rng = self.rng, np.random.default_rng([int(self.config["seed"]), 7, ep])
        try:
            episodes = [self.run_episode(explore=False) for _ in range(self.config["eval_episodes"])]
        finally:
            self.rng = training_rng
        scores = [float(r["score"]) for r in episodes]
        evaluation = {"episode": ep, "mean_score": float(np.mean(scores)), "best_score": max(scores),
                      "scores": scores, "smiles": [r["smiles"] for r in episodes]}
        if self.writer is not None:
            self.writer.add_scalar("eval/mean_score", evaluation["mean_score"], ep)
            self.writer.add_scalar("eval/best_score", evaluation["best_score"], ep)
        self.last_evaluation = evaluation
        return evaluation

    def result(self, stopped_by: str = "budget") -> RunResult:
        """The run's :class:`RunResult`: the top-3 scores as metrics (``top1``..), episodes, env steps and updates as
        counters, and as details the best molecules (``top``: ``[(score, smiles), ...]`` best first), the episodes
        and the seconds trained."""
        best = self.top.best()
        path = self.run_dir.path if self.run_dir is not None else None
        metrics = {f"top{k}": float(score) for k, (score, _) in enumerate(best[:3], 1)}
        if self.last_evaluation is not None:
            metrics["eval_score"] = self.last_evaluation["mean_score"]
        return RunResult(run_dir=path, model_path=path / "model.pt" if path is not None else None,
                         metrics=metrics,
                         counters={"episodes": int(self.counters["episode"]),
                                   "env_steps": int(self.counters["env_steps"]),
                                   "updates": int(self.counters["updates"])},
                         stopped_by=stopped_by,
                         details={"episodes": self.counters["episode"], "top": best,
                                  "seconds": self.counters["seconds"]})

    def _log(self, window: list[dict[str, Any]], steps_per_second: float | None) -> None:
        w, ep = self.writer, self.counters["episode"]
        scores = [r["score"] for r in window]
        w.add_scalar("episode/return", float(np.mean([r["return"] for r in window])), ep)
        w.add_scalar("episode/final_score", float(np.mean(scores)), ep)
        w.add_scalar("episode/epsilon", window[-1]["epsilon"], ep)
        if self.config["restart"]["prob"] > 0:
            w.add_scalar("episode/restarted_fraction", float(np.mean([r["replayed"] > 0 for r in window])), ep)
        losses = [r["loss"] for r in window if r["loss"] is not None]
        if losses:
            w.add_scalar("train/loss", float(np.mean(losses)), ep)
        best = self.top.best()
        for k in (1, 2, 3):
            if len(best) >= k:
                w.add_scalar(f"top/top{k}", best[k - 1][0], ep)
        recent = self.final_smiles[-100:]
        w.add_scalar("episode/uniqueness_last100", len(set(recent)) / len(recent), ep)
        w.add_scalar("episode/validity", 1.0, ep)  # every state is a valid molecule by construction
        if steps_per_second is not None:
            w.add_scalar("speed/env_steps_per_s", steps_per_second, ep)
        w.add_scalar("train/updates", self.counters["updates"], ep)

    # --- outputs and checkpoints ----------------------------------------------------------------------------------

    def write_outputs(self, image_to_tb: bool = False) -> None:
        """``top_molecules.csv`` (SMILES, objective and every property) and ``top_molecules.png``."""
        if self.run_dir is None:
            return
        grid = write_top_molecules(self.run_dir.path, self.top.best())
        if image_to_tb and grid is not None and self.writer is not None:
            self.writer.add_image("top_molecules", grid, self.counters["episode"], dataformats="HWC")

    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": "moldqn",
            "config": self.config,
            "model": self.q.state_dict(),
            "target": self.q_target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "replay": self.replay.state_dict(),
            "top": [[score, smiles] for score, smiles in self.top.best()],
            "elites": [[score, smiles, *self.elites.payload(smiles)] for score, smiles in self.elites.best()],
            "final_smiles": list(self.final_smiles),
            "counters": dict(self.counters),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        }

    def save_checkpoint(self) -> Path:
        path = self.run_dir.save_checkpoint(self.counters["episode"], self.state_dict(),
                                            self.config["keep_checkpoints"])
        save_model(self.run_dir.path / "model.pt", self.q, self.config)
        return path

    def load(self, path: Path) -> None:
        """Restore a checkpoint (networks, optimizer, replay, top molecules, counters, RNGs): the next ``run()``
        continues that run (``--resume``)."""
        state = load_checkpoint(path, map_location="cpu")
        if state.get("kind") != "moldqn":
            raise CheckpointError(path, "is not a MolDQN checkpoint")
        try:
            self.q.load_state_dict(state["model"])
            self.q_target.load_state_dict(state["target"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.replay.load_state_dict(state["replay"])
        except (KeyError, RuntimeError) as exc:
            raise CheckpointError(path, f"does not match this config: {exc}") from None
        for score, smiles in state["top"]:
            self.top.add(str(smiles), float(score))
        self.final_smiles = [str(s) for s in state["final_smiles"]]
        # a checkpoint from before elite restarts has none: the archive then fills from the resumed episodes
        for score, smiles, seed, actions in state.get("elites", []):
            self.elites.add(str(smiles), float(score), (int(seed), [int(a) for a in actions]))
        self.counters.update({k: type(self.counters[k])(v) for k, v in state["counters"].items()})
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])


def save_model(path: Path, q: QNetwork, config: dict[str, Any]) -> None:
    """A small file with just what a player needs: the network and the env settings it was trained with."""
    save_checkpoint(path, {"kind": "moldqn-model", "model": q.state_dict(), "env": config["env"],
                           "objective": config["objective"] if isinstance(config["objective"], str) else "custom",
                           "net": config["net"], "allow_stop": bool(config["allow_stop"])})
