"""Self-play actors on Ray (``selfplay.actors=N``, ``arena-train go --actors N``; the ``[scale]`` extra).

The learner (`trainer.AlphaZeroTrainer`) keeps its loop; only where its positions come from changes. `ActorPool`
has self-play's interface (``generate(min_samples) -> (samples, stats)``) and runs ``N`` Ray actors
(`SelfPlayWorker`), each a process with its own CPU copy of the network and its own self-play engine (compiled by
default) over ``selfplay.parallel_games`` games:

* every actor always has one ``generate`` call in flight, so the actors play while the learner trains, evaluates and
  saves; ``generate`` on the learner's side takes finished results as they arrive (``ray.wait``) until it holds
  ``min_samples`` positions and sends each actor that delivered its next call at once; results still in flight are
  taken by the next iteration;
* after every training phase the learner calls `ActorPool.update_weights`: the weights go once into Ray's object
  store and every actor loads them before its next ``generate`` (an actor's calls run in the order sent), so a
  result is at most one training phase stale;
* an actor whose process dies (SIGKILL, out of memory, a lost node) raises ``RayActorError`` on the learner's side:
  the pool starts a new actor in its place with the current weights and the run goes on (`restarts` counts them;
  more than ``max_restarts`` in one run is an error); the whole run killed resumes with ``--resume`` as without
  actors (games in progress are lost either way);
* seeds: actor ``i`` of a run with seed ``s`` draws from ``np.random.default_rng([s, 0xAC, i, restart])``. Each
  actor's games are reproducible given the weights it holds; the run as a whole is not bit-for-bit reproducible,
  because which actor's result arrives first, and so which weights the next game is played with, depends on timing.

With ``selfplay.inference_server`` on (by default when the learner's machine has CUDA) the actors hold no network:
one more Ray actor, `inference_server.InferenceServer`, holds it on the GPU and answers every actor's leaf requests
in shared batches; weight updates then go to the server alone (see that module).

Ray runs locally by default (``ray.init(num_cpus=max(cores, actors * actor_threads))``, started and shut down with
the pool) or joins a cluster with ``selfplay.ray_address`` (``--ray-address``; every node needs this package
installed). The rates logged (``selfplay/positions_per_second`` etc.) are positions arrived per second of the
learner's wall clock between two ``generate`` returns: what the actors deliver together.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from deep_arena.agents.alphazero.inference import InferenceOptions
from deep_arena.agents.alphazero.inference_server import InferenceServer, RemoteLeafEvaluator, use_server
from deep_arena.agents.alphazero.mcts import NetworkEvaluator
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.search import NetworkLeafEvaluator
from deep_arena.agents.alphazero.selfplay import Sample, SelfPlay, SelfPlayConfig, SelfPlayStats
from deep_arena.agents.alphazero.selfplay_compiled import CompiledSelfPlay

INSTALL_HINT = "pip install -e '.[scale]'"


def require_ray():
    """The ``ray`` module, or a one-line ValueError saying how to install it."""
    try:
        import ray  # lazy: ray is the optional [scale] extra, needed only for selfplay.actors > 0
    except ImportError:
        raise ValueError(f"selfplay.actors (--actors) needs Ray: {INSTALL_HINT}") from None
    return ray


def actor_seed(seed: int, index: int, restart: int = 0) -> list[int]:
    """The seed sequence of actor ``index`` (its ``restart``-th replacement) in a run with ``seed``."""
    return [int(seed), 0xAC, int(index), int(restart)]


def cpu_weights(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The network's state dict on the CPU, contiguous (what an actor loads)."""
    return {k: v.detach().to("cpu").contiguous() for k, v in net.state_dict().items()}


class SelfPlayWorker:
    """One actor: a CPU copy of the network and a self-play engine (``spec``: board_size, komi, history_length,
    selfplay, inference, mixed_precision, threads). Wrapped as a Ray actor by `ActorPool`; usable as is (tests).
    With a ``server`` (an `InferenceServer` actor handle) it holds no network and asks the server instead."""

    def __init__(self, net_config: dict, weights: dict | None, version: int, spec: dict, seed: list[int],
                 server: Any = None):
        torch.set_num_threads(int(spec["threads"]))
        torch.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        config = SelfPlayConfig(**spec["selfplay"])
        h = int(spec["history_length"])
        self.net = None
        self.version = int(version)
        if server is not None:
            self.selfplay = CompiledSelfPlay(RemoteLeafEvaluator(server), int(spec["board_size"]),
                                             float(spec["komi"]), h, config, np.random.default_rng(seed))
            return
        self.net = PolicyValueNet(NetConfig(**net_config)).eval()
        self.set_weights(weights, version)
        device = torch.device("cpu")
        if config.engine == "compiled":
            evaluate = NetworkLeafEvaluator(self.net, device, bool(spec["mixed_precision"]),
                                            InferenceOptions(**spec["inference"]))
            engine = CompiledSelfPlay
        else:
            evaluate = NetworkEvaluator(self.net, h, device, mixed_precision=bool(spec["mixed_precision"]))
            engine = SelfPlay
        self.selfplay = engine(evaluate, int(spec["board_size"]), float(spec["komi"]), h, config,
                               np.random.default_rng(seed))

    def pid(self) -> int:
        return os.getpid()

    def set_weights(self, weights: dict, version: int) -> None:
        if self.net is None:
            raise RuntimeError("this actor plays through the inference server; send the weights there")
        self.net.load_state_dict(weights)
        self.version = int(version)

    def generate(self, min_samples: int) -> dict[str, Any]:
        """Self-play until ``min_samples`` positions of finished games; arrays and plain statistics back."""
        samples, stats = self.selfplay.generate(int(min_samples))
        n = len(samples)
        return {"planes": np.stack([s.planes for s, _ in samples]) if n else None,
                "policy": np.stack([s.policy for s, _ in samples]) if n else None,
                "value": np.array([z for _, z in samples], dtype=np.float32),
                "to_play": np.array([s.to_play for s, _ in samples], dtype=np.int8),
                "stats": {"games": stats.games, "moves": stats.moves, "positions": stats.positions,
                          "simulations": stats.simulations, "game_lengths": list(stats.game_lengths),
                          "black_wins": int(stats.black_wins), "network_calls": stats.network_calls,
                          "evaluated": stats.evaluated, "seconds": stats.seconds},
                "version": self.version}


class ActorPool:
    """``selfplay.actors`` Ray actors feeding the learner (module docstring). Starts on the first `generate`."""

    def __init__(self, net: torch.nn.Module, config: dict, max_restarts: int | None = None):
        self.ray = require_ray()
        sp = config["selfplay"]
        self.count = int(sp["actors"])
        if self.count < 1:
            raise ValueError(f"ActorPool needs selfplay.actors >= 1, got {self.count}")
        self.threads = int(sp["actor_threads"])
        self.address = sp.get("ray_address")
        self.seed = int(config["seed"])
        self.net = net
        self.spec = {"board_size": int(config["board_size"]), "komi": float(config["komi"]),
                     "history_length": int(config["history_length"]), "selfplay": dict(sp),
                     "inference": asdict(InferenceOptions.from_config(config)),
                     "mixed_precision": bool(config["mixed_precision"]), "threads": self.threads}
        self.use_server = use_server(str(sp.get("inference_server", "auto")), self.count)
        if self.use_server and sp.get("engine", "compiled") != "compiled":
            raise ValueError("selfplay.inference_server needs selfplay.engine=compiled (the Python reference search "
                             "evaluates one position at a time); set selfplay.inference_server=never")
        self.server = None
        self.server_seen = {"passes": 0, "positions": 0}
        self.max_restarts = 10 * self.count if max_restarts is None else int(max_restarts)
        self.restarts = 0
        self.version = 0
        self.actors: list[Any] = []
        self.generations: list[int] = []
        self.pending: dict[Any, int] = {}  # ObjectRef of a generate call -> actor index
        self.weights_ref = None
        self.started_ray = False
        self.last_return: float | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, logging_level="WARNING", log_to_driver=False)
            else:
                ray.init(num_cpus=max(os.cpu_count() or 1, self.count * self.threads), include_dashboard=False,
                         logging_level="WARNING", log_to_driver=False)
            self.started_ray = True
        self.remote_cls = ray.remote(num_cpus=self.threads, max_restarts=0)(SelfPlayWorker)
        self.weights_ref = ray.put(cpu_weights(self.net))
        if self.use_server:
            gpu = torch.cuda.is_available()
            server_cls = ray.remote(num_cpus=1 if gpu else self.threads, num_gpus=1 if gpu else 0,
                                    max_restarts=0)(InferenceServer)
            self.server = server_cls.remote(self.net.config.to_dict(), self.weights_ref, self.version,
                                            self.spec["inference"], self.spec["mixed_precision"], self.threads)
        self.generations = [0] * self.count
        self.actors = [self._new_actor(i) for i in range(self.count)]
        self.chunk = None
        self.last_return = time.perf_counter()

    def _new_actor(self, index: int):
        return self.remote_cls.remote(self.net.config.to_dict(), None if self.server else self.weights_ref,
                                      self.version, self.spec, actor_seed(self.seed, index, self.generations[index]),
                                      self.server)

    def _submit(self, index: int) -> None:
        ref = self.actors[index].generate.remote(self.chunk)
        self.pending[ref] = index

    def _replace(self, index: int) -> None:
        """Actor ``index`` died: a new one in its place (next seed, current weights), its calls sent again."""
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise RuntimeError(f"self-play actors died {self.restarts} times in this run (limit {self.max_restarts});"
                               f" see the Ray logs under /tmp/ray/session_latest/logs")
        for ref in [r for r, i in self.pending.items() if i == index]:
            del self.pending[ref]
        self._kill(self.actors[index])
        self.generations[index] += 1
        self.actors[index] = self._new_actor(index)
        self._submit(index)

    def _kill(self, handle) -> None:
        try:
            self.ray.kill(handle, no_restart=True)
        except Exception:  # already gone: nothing to kill
            pass

    def pids(self) -> list[int]:
        """The actors' process ids (starts the pool if needed)."""
        if not self.actors:
            self.start()
        return [self.ray.get(a.pid.remote()) for a in self.actors]

    def close(self) -> None:
        if not self.actors:
            return
        for handle in [*self.actors, *([self.server] if self.server is not None else [])]:
            self._kill(handle)
        self.server = None
        self.actors, self.pending = [], {}
        if self.started_ray and self.ray.is_initialized():
            self.ray.shutdown()
        self.started_ray = False

    # -- the learner's side ----------------------------------------------------------------------------------------

    def update_weights(self, net: torch.nn.Module | None = None) -> None:
        """The learner's current weights to every actor, loaded before its next ``generate``."""
        if not self.actors:
            return  # start() sends the weights it finds
        self.version += 1
        self.weights_ref = self.ray.put(cpu_weights(net if net is not None else self.net))
        if self.server is not None:   # the actors hold no network: the server evaluates for them
            self.server.set_weights.remote(self.weights_ref, self.version)
            return
        for actor in self.actors:
            actor.set_weights.remote(self.weights_ref, self.version)

    def server_mean_batch(self) -> float | None:
        """Positions per forward pass of the inference server since the last call (None without a server)."""
        if self.server is None:
            return None
        s = self.ray.get(self.server.stats.remote())
        passes = s["passes"] - self.server_seen["passes"]
        positions = s["positions"] - self.server_seen["positions"]
        self.server_seen = {"passes": s["passes"], "positions": s["positions"]}
        return positions / passes if passes else 0.0

    def generate(self, min_samples: int) -> tuple[list[tuple[Sample, float]], SelfPlayStats]:
        ray = self.ray
        if not self.actors:
            self.start()
        if self.chunk is None:
            self.chunk = max(1, math.ceil(min_samples / self.count))
            for i in range(self.count):
                self._submit(i)
        out: list[tuple[Sample, float]] = []
        stats = SelfPlayStats()
        while len(out) < min_samples:
            ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=1.0)
            if not ready:
                continue
            ref = ready[0]
            index = self.pending.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayActorError:  # the process died (ActorDiedError, ActorUnavailableError, ...)
                self._replace(index)
                continue
            self._submit(index)
            s = result["stats"]
            for key in ("games", "moves", "positions", "simulations", "black_wins", "network_calls", "evaluated"):
                setattr(stats, key, getattr(stats, key) + int(s[key]))
            stats.game_lengths.extend(s["game_lengths"])
            if result["planes"] is not None:
                out.extend((Sample(planes=p, policy=q, to_play=int(c)), float(z))
                           for p, q, c, z in zip(result["planes"], result["policy"], result["to_play"],
                                                 result["value"]))
        now = time.perf_counter()
        stats.seconds = now - self.last_return
        self.last_return = now
        return out, stats
