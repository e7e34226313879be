"""AlphaZero training loop for Go: self-play -> replay buffer -> SGD on (policy, value) targets, repeated.

One iteration:
1. self-play (`CompiledSelfPlay`, `SelfPlay` with ``selfplay.engine=python``, or with ``selfplay.actors=N`` the Ray
   actors of `actors.ActorPool`, which keep playing while the learner trains and get the new weights after each
   training phase) adds at least ``positions_per_iteration`` positions of finished games to the replay buffer;
2. ``train_steps = positions_added * sample_reuse / batch_size`` minibatch updates, each sample under a random board
   symmetry of the 8 (augmentation);
3. logging; every ``eval_every`` iterations a match against a random player and against GNU Go, with an Elo
   estimate, a board image and an SGF; every ``checkpoint_every`` iterations a checkpoint.

Loss: cross-entropy of the policy against the search's visit distribution + ``value_weight`` * MSE of the value
against the game result, with the optimizer's weight decay as the L2 term. Checkpoints hold the network, optimizer,
AMP scaler, replay buffer, counters and RNG states, so ``--resume`` continues where a killed run stopped (games in
progress are restarted).
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

from deep_arena.agents.alphazero.actors import ActorPool
from deep_arena.agents.alphazero.config import AlphaZeroSettings
from deep_arena.agents.alphazero.expert import ExpertConfig, expert_games, expert_samples
from deep_arena.agents.alphazero.inference import InferenceOptions
from deep_arena.agents.alphazero.mcts import NetworkEvaluator
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet, count_parameters
from deep_arena.agents.alphazero.search import NetworkLeafEvaluator
from deep_arena.agents.alphazero.selfplay import SelfPlay, SelfPlayConfig
from deep_arena.agents.alphazero.selfplay_compiled import CompiledSelfPlay
from deep_arena.agents.alphazero.symmetry import NUM_SYMMETRIES, transform_planes, transform_policy
from deep_arena.runtime import (CheckpointError, RunDir, deep_merge, load_checkpoint, make_writer, prepare_training,
                                save_checkpoint)
from deep_arena.agents.alphazero.player import AlphaZeroPlayer, load_network
from deep_arena.agents.go.match import board_frame, play_match
from deep_arena.envs.go import features
from deep_arena.envs.go.opponents import RandomOpponent, make_opponent
from deep_arena.runtime import log_hparams_text, progress
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.trainer import RunResult

DEFAULTS: dict[str, Any] = AlphaZeroSettings.defaults()  # device and seed included; --set names: config.py


class ReplayBuffer:
    """Fixed-capacity ring of (planes uint8, policy, value) training samples."""

    def __init__(self, capacity: int, planes_shape: tuple[int, ...], actions: int):
        self.capacity = capacity
        self.planes = np.zeros((capacity, *planes_shape), dtype=np.uint8)
        self.policy = np.zeros((capacity, actions), dtype=np.float32)
        self.value = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self.next = 0

    def add(self, planes: np.ndarray, policy: np.ndarray, value: float) -> None:
        self.planes[self.next] = planes
        self.policy[self.next] = policy
        self.value[self.next] = value
        self.next = (self.next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = rng.integers(self.size, size=batch)
        return self.planes[idx], self.policy[idx], self.value[idx]

    def state_dict(self) -> dict[str, Any]:
        n = self.size
        return {"planes": torch.from_numpy(self.planes[:n].copy()) if self.size < self.capacity
                else torch.from_numpy(self.planes), "policy": torch.from_numpy(self.policy[:n].copy()),
                "value": torch.from_numpy(self.value[:n].copy()), "size": n, "next": self.next,
                "capacity": self.capacity}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = int(state["size"])
        if int(state["capacity"]) != self.capacity or tuple(state["planes"].shape[1:]) != self.planes.shape[1:]:
            raise ValueError(f"replay buffer shape {tuple(state['planes'].shape)} / capacity {state['capacity']} "
                             f"does not match this run's {self.planes.shape} / {self.capacity}")
        self.planes[:n] = state["planes"][:n].numpy()
        self.policy[:n] = state["policy"][:n].numpy()
        self.value[:n] = state["value"][:n].numpy()
        self.size, self.next = n, int(state["next"])


def augment(planes: np.ndarray, policy: np.ndarray, board_size: int, rng: np.random.Generator):
    """A random symmetry per sample (batch-wise by symmetry class, for speed)."""
    ks = rng.integers(NUM_SYMMETRIES, size=len(planes))
    planes_out = np.empty_like(planes)
    policy_out = np.empty_like(policy)
    for k in range(NUM_SYMMETRIES):
        idx = np.flatnonzero(ks == k)
        if len(idx):
            planes_out[idx] = transform_planes(planes[idx], k)
            policy_out[idx] = transform_policy(policy[idx], k, board_size)
    return planes_out, policy_out


def lr_factor(config: dict[str, Any], progress: float) -> float:
    """Learning-rate multiplier at training progress 0..1 (constant, cosine or step schedule)."""
    t = config["train"]
    progress = min(max(progress, 0.0), 1.0)
    if t["lr_schedule"] == "constant":
        return 1.0
    if t["lr_schedule"] == "cosine":
        lo = t["min_lr_fraction"]
        return lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * progress))
    if t["lr_schedule"] == "step":
        return t["lr_gamma"] ** sum(progress >= m for m in t["lr_milestones"])
    raise ValueError(f"unknown lr_schedule {t['lr_schedule']!r}: use constant, cosine or step")


def validate_config(config: dict[str, Any]) -> None:
    """Raise ValueError naming the first bad setting (before any run directory is made)."""
    AlphaZeroSettings.from_dict(config)


class AlphaZeroTrainer:
    def __init__(self, config: dict[str, Any], run_dir: RunDir, progress_bar: bool = True):
        config = deep_merge(DEFAULTS, config)   # settings added since an older run's config was saved
        validate_config(config)
        self.config = config
        self.run_dir = run_dir
        self.progress_bar = progress_bar
        self.device = prepare_training(config)
        self.rng = np.random.default_rng(int(config["seed"]))
        n = int(config["board_size"])
        self.board_size = n
        h = int(config["history_length"])
        net_cfg = NetConfig(in_planes=features.num_planes(h), **config["net"])
        self.net = PolicyValueNet(net_cfg).to(self.device)
        t = config["train"]
        if t["optimizer"] == "adamw":
            self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=t["lr"], weight_decay=t["weight_decay"])
        else:
            self.optimizer = torch.optim.SGD(self.net.parameters(), lr=t["lr"], momentum=t["momentum"],
                                             weight_decay=t["weight_decay"], nesterov=True)
        self.amp = bool(config["mixed_precision"]) and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.replay = ReplayBuffer(int(config["replay_capacity"]), (features.num_planes(h), n, n), n * n + 1)
        self.counters = {"iteration": 0, "train_steps": 0, "games": 0, "positions": 0, "simulations": 0,
                         "elapsed": 0.0, "expert_games": 0, "expert_samples": 0, "expert_steps": 0}
        selfplay_config = SelfPlayConfig(**config["selfplay"])
        mixed = bool(config["mixed_precision"])
        if selfplay_config.actors:  # Ray actor processes play (agents.alphazero.actors); started on first use
            self.evaluator = None
            self.selfplay = ActorPool(self.net, config)
        elif selfplay_config.engine == "compiled":
            self.evaluator = NetworkLeafEvaluator(self.net, self.device, mixed, InferenceOptions.from_config(config))
            self.selfplay = CompiledSelfPlay(self.evaluator, n, float(config["komi"]), h, selfplay_config, self.rng)
        else:
            self.evaluator = NetworkEvaluator(self.net, h, self.device, mixed_precision=mixed)
            self.selfplay = SelfPlay(self.evaluator, n, float(config["komi"]), h, selfplay_config, self.rng)
        self.writer = None

    # -- checkpoints -------------------------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        return {"board_size": self.board_size, "komi": float(self.config["komi"]),
                "history_length": int(self.config["history_length"]), "eval_sims": int(self.config["eval"]["sims"]),
                "algo": "alphazero", "counters": dict(self.counters)}

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.net.state_dict(), "net_config": self.net.config.to_dict(), "meta": self.meta(),
                "optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict(),
                "replay": self.replay.state_dict(), "counters": dict(self.counters),
                "rng": {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()},
                "config": copy.deepcopy(self.config)}

    def save(self) -> Path:
        path = self.run_dir.checkpoint_path(self.counters["iteration"])
        save_checkpoint(path, self.state_dict())
        self.export(self.run_dir.path / "model.pt")
        return path

    def export(self, path: Path) -> None:
        """A small file with just what playing needs (network, its config, board size, komi)."""
        save_checkpoint(path, {"model": self.net.state_dict(), "net_config": self.net.config.to_dict(),
                               "meta": self.meta()})

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location="cpu")  # the replay buffer and RNG states live on the CPU
        meta = state.get("meta", {})
        if int(meta.get("board_size", -1)) != self.board_size:
            raise CheckpointError(path, f"it is for a {meta.get('board_size')}x{meta.get('board_size')} board, "
                                        f"this run is {self.board_size}x{self.board_size}")
        try:
            self.net.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scaler.load_state_dict(state["scaler"])
            self.replay.load_state_dict(state["replay"])
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise CheckpointError(path, f"does not match this run's network/config: {err}") from None
        self.counters.update(state["counters"])
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"])

    def init_from(self, path: Path) -> None:
        """Transfer learning: start from another run's (or board size's) network weights; optimizer starts fresh."""

        net, _ = load_network(path, self.device)
        try:
            self.net.load_state_dict(net.state_dict())
        except RuntimeError as err:
            raise CheckpointError(path, f"its network shape differs from this run's ({self.net.config}): "
                                        f"{str(err).splitlines()[0]}") from None

    # -- training --------------------------------------------------------------------------------------------------

    def progress(self) -> float:
        """Fraction of the budget spent: the larger of elapsed/minutes and iteration/iterations."""
        parts = []
        if self.config["minutes"] is not None:
            parts.append(self.counters["elapsed"] / (60.0 * self.config["minutes"]))
        if self.config["iterations"] is not None:
            parts.append(self.counters["iteration"] / self.config["iterations"])
        return max(parts)

    def schedule_progress(self) -> float:
        """Where the learning-rate schedule is: by iterations when they are given, so that the same seed gives the
        same run; by wall-clock time only with a minutes-only budget (which is not reproducible)."""
        if self.config["iterations"] is not None:
            return self.counters["iteration"] / self.config["iterations"]
        return self.progress()

    def train_step(self, batch_size: int) -> dict[str, float]:
        planes, policy, value = self.replay.sample(batch_size, self.rng)
        planes, policy = augment(planes, policy, self.board_size, self.rng)
        x = torch.from_numpy(planes.astype(np.float32)).to(self.device)
        target_pi = torch.from_numpy(policy).to(self.device)
        target_v = torch.from_numpy(value).to(self.device)
        self.net.train()
        with torch.autocast(self.device.type, enabled=self.amp):
            logits, v = self.net(x)
        log_p = F.log_softmax(logits.float(), dim=1)
        policy_loss = -(target_pi * log_p).sum(dim=1).mean()
        value_loss = F.mse_loss(v.float(), target_v)
        loss = policy_loss + self.config["train"]["value_weight"] * value_loss
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.config["train"]["grad_clip"])
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at train step {self.counters['train_steps']}; "
                                     f"lower train.lr")
        entropy = -(log_p.exp() * log_p).sum(dim=1).mean()
        return {"loss/policy": policy_loss.item(), "loss/value": value_loss.item(), "loss/total": loss.item(),
                "policy/entropy": entropy.item()}

    def run(self) -> RunResult:

        cfg = self.config
        done = self.counters["iteration"]
        # A checkpoint at iteration K is saved after K's scalars are logged: on resume, only steps > K are stale.
        self.writer = make_writer(self.run_dir.path, purge_step=done + 1 if done else None)
        if self.counters["iteration"] == 0:
            log_hparams_text(self.writer, cfg)
            self.writer.add_text("model", f"{count_parameters(self.net):,} parameters, {self.net.config}", 0)
        if cfg["expert"]["games"] and self.counters["iteration"] == 0 and not self.counters["expert_games"]:
            self.expert_stage()
        # The bar counts percent of the budget (minutes and/or iterations, whichever ends first), so a minutes-only
        # run shows a total and an ETA too; the postfix has the iteration.
        bar = progress(total=100, desc="alphazero, % of budget", disable=not self.progress_bar, unit="%",
                       bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}% [{elapsed}<{remaining}{postfix}]")
        bar.update(min(100, int(100 * self.progress())))
        self._last_eval: dict[str, Any] = {}
        try:
            with GracefulStop() as stop:  # Ctrl-C / SIGTERM: finish the iteration, save, report (runtime.interrupts)
                self._loop(stop, bar)
        finally:
            if isinstance(self.selfplay, ActorPool):
                self.selfplay.close()
        bar.close()
        self.save()
        if stop.requested:  # no final evaluation: the user asked to stop
            self.writer.close()
            return self.result(self._last_eval, stopped_by="interrupt")
        last_eval = self._last_eval
        if not last_eval or last_eval.get("iteration") != self.counters["iteration"]:
            last_eval = self.evaluate(self.counters["iteration"])
        self.writer.close()
        return self.result(last_eval)

    def _loop(self, stop: GracefulStop, bar) -> None:
        """Iterations until the budget is spent or a stop is requested; the last evaluation in ``self._last_eval``."""
        cfg = self.config
        last_tick = time.time()
        while self.progress() < 1.0 and not stop.requested:
            it_start = time.time()
            samples, stats = self.selfplay.generate(int(cfg["positions_per_iteration"]))
            for sample, z in samples:
                self.replay.add(sample.planes, sample.policy, z)
            self.counters["games"] += stats.games
            self.counters["positions"] += stats.positions
            self.counters["simulations"] += stats.simulations
            t = cfg["train"]
            for group in self.optimizer.param_groups:
                group["lr"] = t["lr"] * lr_factor(cfg, self.schedule_progress())
            losses: list[dict[str, float]] = []
            train_start = time.time()
            if self.replay.size >= cfg["min_replay"]:
                steps = max(1, int(len(samples) * t["sample_reuse"] / t["batch_size"]))
                for _ in range(steps):
                    losses.append(self.train_step(t["batch_size"]))
                self.counters["train_steps"] += steps
            train_seconds = time.time() - train_start
            if losses and isinstance(self.selfplay, ActorPool):
                self.selfplay.update_weights(self.net)  # the actors play on with the new weights
            self.counters["iteration"] += 1
            now = time.time()
            self.counters["elapsed"] += now - last_tick
            last_tick = now
            it = self.counters["iteration"]
            w = self.writer
            sp = max(stats.seconds, 1e-9)
            w.add_scalar("selfplay/games_per_second", stats.games / sp, it)
            w.add_scalar("selfplay/positions_per_second", stats.positions / sp, it)
            w.add_scalar("selfplay/moves_per_second", stats.moves / sp, it)
            w.add_scalar("selfplay/simulations_per_second", stats.simulations / sp, it)
            w.add_scalar("selfplay/mean_batch", stats.mean_batch, it)
            w.add_scalar("selfplay/mean_inference_batch", stats.mean_batch, it)  # positions per network call
            if isinstance(self.selfplay, ActorPool) and self.selfplay.server is not None:
                w.add_scalar("selfplay/server_mean_batch", self.selfplay.server_mean_batch(), it)  # what the GPU saw
            if stats.game_lengths:
                w.add_scalar("selfplay/game_length", float(np.mean(stats.game_lengths)), it)
                w.add_scalar("selfplay/black_win_rate", stats.black_wins / stats.games, it)
            w.add_scalar("train/learning_rate", self.optimizer.param_groups[0]["lr"], it)
            w.add_scalar("train/replay_size", self.replay.size, it)
            w.add_scalar("train/steps_per_second", len(losses) / max(train_seconds, 1e-9), it)
            w.add_scalar("progress/games", self.counters["games"], it)
            w.add_scalar("progress/positions", self.counters["positions"], it)
            w.add_scalar("progress/train_steps", self.counters["train_steps"], it)
            w.add_scalar("progress/elapsed_minutes", self.counters["elapsed"] / 60, it)
            if losses:
                for key in losses[0]:
                    w.add_scalar(key, float(np.mean([l[key] for l in losses])), it)
            if it % cfg["eval_every"] == 0:
                self._last_eval = self.evaluate(it)
            if it % cfg["checkpoint_every"] == 0:
                self.save()
            bar.update(min(100, int(100 * self.progress())) - bar.n)
            bar.set_postfix(it=it, games=self.counters["games"],
                            loss=f"{losses[-1]['loss/total']:.3f}" if losses else "-", it_s=f"{time.time() - it_start:.1f}")

    def result(self, evaluation: dict[str, Any], stopped_by: str | None = None) -> RunResult:
        """The run's :class:`RunResult`: win rates per opponent as metrics, the last evaluation as details."""
        metrics = {f"win_rate_vs_{name}": float(r["win_rate"]) for name, r in evaluation.items() if name != "iteration"}
        cfg = self.config
        by_minutes = cfg["minutes"] is not None and self.counters["elapsed"] >= 60.0 * cfg["minutes"]
        return RunResult(run_dir=self.run_dir.path if self.run_dir is not None else None,
                         model_path=self.run_dir.path / "model.pt" if self.run_dir is not None else None,
                         metrics=metrics,
                         counters={k: int(self.counters[k]) for k in ("iteration", "games", "positions", "train_steps")},
                         stopped_by=stopped_by or ("minutes" if by_minutes else "budget"), details=evaluation)

    def expert_stage(self) -> None:
        """GNU Go's games into the replay buffer, then ``expert.train_steps`` minibatch steps on them (learning rate
        from ``train.lr`` down to ``min_lr_fraction`` of it on a cosine); saved as the iteration-0 checkpoint."""

        began = time.time()
        ecfg = ExpertConfig(**self.config["expert"])
        komi, h = float(self.config["komi"]), int(self.config["history_length"])
        games = samples = 0
        try:
            for moves, winner, opening in expert_games(ecfg, self.board_size, komi, int(self.config["seed"]),
                                                       self.progress_bar, workers=ecfg.workers):
                for planes, policy, value in expert_samples(moves, winner, opening, self.board_size, komi, h):
                    self.replay.add(planes, policy, value)
                    samples += 1
                games += 1
        except FileNotFoundError as err:
            raise FileNotFoundError(f"expert.games needs GNU Go ({err}); install it (apt-get install gnugo) or "
                                    f"set expert.games=0") from None
        t = self.config["train"]
        steps, low = ecfg.train_steps, float(t["min_lr_fraction"])
        window: list[dict[str, float]] = []
        with progress(total=steps, desc="expert SGD", unit="step", disable=not self.progress_bar) as bar:
            for step in range(1, steps + 1):
                factor = low + (1 - low) * 0.5 * (1 + math.cos(math.pi * (step - 1) / max(1, steps)))
                for group in self.optimizer.param_groups:
                    group["lr"] = t["lr"] * factor
                window.append(self.train_step(t["batch_size"]))
                if step % 50 == 0 or step == steps:
                    for key in window[0]:
                        self.writer.add_scalar(f"expert/{key}", float(np.mean([w[key] for w in window])), step)
                    window = []
                bar.update(1)
        self.counters.update(expert_games=games, expert_samples=samples, expert_steps=steps)
        self.counters["elapsed"] += time.time() - began
        self.writer.add_text("expert", f"{games} GNU Go level {ecfg.gnugo_level} games, {samples} positions, "
                                       f"{steps} steps, {time.time() - began:.0f} s", 0)
        self.save()

    # -- evaluation ------------------------------------------------------------------------------------------------

    def evaluate(self, it: int) -> dict[str, Any]:

        ev = self.config["eval"]
        komi = float(self.config["komi"])
        net = copy.deepcopy(self.net).eval()
        player = AlphaZeroPlayer(net, self.meta(), sims=int(ev["sims"]), device=self.device, name="alphazero",
                                 engine=self.config["selfplay"]["engine"])
        out: dict[str, Any] = {"iteration": it}
        results = {}
        if ev["games_vs_random"]:
            results["random"] = play_match(player, RandomOpponent(), self.board_size, komi,
                                           int(ev["games_vs_random"]), seed=1_000_000 + it, progress=False)
        level = ev["gnugo_level"]
        if ev["games_vs_gnugo"] and level is not None:
            try:
                gnugo = make_opponent(f"gnugo:{int(level)}", self.board_size, komi)
            except FileNotFoundError:
                gnugo = None
            if gnugo is not None:
                try:
                    results[f"gnugo{level}"] = play_match(player, gnugo, self.board_size, komi,
                                                          int(ev["games_vs_gnugo"]), seed=2_000_000 + it,
                                                          progress=False)
                finally:
                    gnugo.close()
        for name, res in results.items():
            self.writer.add_scalar(f"eval/win_rate_vs_{name}", res.win_rate, it)
            lo, hi = res.interval
            self.writer.add_scalar(f"eval/win_rate_vs_{name}_lower95", lo, it)
            self.writer.add_scalar(f"eval/elo_vs_{name}", res.elo, it)
            out[name] = {"win_rate": res.win_rate, "interval": [lo, hi], "elo": res.elo, "games": res.games}
        last = next((res.records[-1] for res in reversed(list(results.values())) if res.records), None)
        if last is not None:  # match records keep the SGF text, not the game object
            sgf_path = self.run_dir.path / "sample_game.sgf"
            sgf_path.write_text(last.sgf, encoding="utf-8")
            frame = board_frame(self.board_size, last.sgf, png=self.run_dir.path / "sample_game.png")
            if frame is not None:
                self.writer.add_image("eval/final_board", frame, it, dataformats="HWC")
        self.writer.flush()
        return out
