"""One inference server batching the leaves of every self-play actor (``selfplay.inference_server``).

With ``selfplay.actors=N`` (:mod:`agents.alphazero.actors`) each actor can hold its own CPU copy of the network. On
a machine with a GPU that leaves the GPU to the learner alone, and N small batches go through N CPU copies. With the
server, the pool starts one more Ray actor, `InferenceServer`, that holds the network on the GPU (it asks Ray for
``num_gpus=1`` when the learner's machine has CUDA) and evaluates the leaves of all actors:

* an actor's search sends the planes of its leaves (`RemoteLeafEvaluator`, one request per search step) and masks the
  illegal moves of the logits it gets back itself, exactly as `search.NetworkLeafEvaluator` does in process;
* the server runs one forward pass at a time on a thread of its own; the requests that arrive while a pass runs wait
  in a queue and the next pass takes them all together (up to ``max_batch`` positions): no timer, so a lone actor is
  never kept waiting, and N actors' steps meet in one batch;
* weights: `ActorPool.update_weights` sends the learner's weights to the server only (loaded between two passes);
* precision, channels-last and ``torch.compile`` follow ``inference.*`` (`inference.InferenceOptions`);
* ``stats()``: forward passes, positions and requests, so the trainer logs the mean batch the device saw
  (``selfplay/server_mean_batch``) beside the per-actor request size (``selfplay/mean_inference_batch``).

``selfplay.inference_server``: ``auto`` (default) uses the server when the learner's machine has CUDA, ``always``
forces it (on the CPU too: tests, or a cluster whose GPU node should do the inference), ``never`` gives each actor
a network of its own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from deep_arena.agents.alphazero.inference import InferenceOptions
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.search import Leaves, NetworkLeafEvaluator, masked_priors

MODES = ("auto", "always", "never")  # not on/off: YAML (--set) reads those as booleans


def use_server(mode: str, actors: int) -> bool:
    """Whether a run with ``actors`` self-play actors and ``selfplay.inference_server=mode`` starts a server."""
    if mode not in MODES:
        raise ValueError(f"selfplay.inference_server must be one of {', '.join(MODES)}, got {mode!r}")
    if actors < 1:
        return False
    return mode == "always" or (mode == "auto" and torch.cuda.is_available())


class InferenceServer:
    """The network on this process's best device, answering `evaluate` requests in batches (module docstring).
    A Ray async actor in a run (`actors.ActorPool`); usable without Ray from a test's event loop."""

    def __init__(self, net_config: dict, weights: dict, version: int, inference: dict, mixed_precision: bool,
                 threads: int = 1, max_batch: int = 4096):
        torch.set_num_threads(int(threads))
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.net = PolicyValueNet(NetConfig(**net_config)).to(self.device).eval()
        self.net.load_state_dict(weights)
        self.version = int(version)
        self.leaf = NetworkLeafEvaluator(self.net, self.device, bool(mixed_precision), InferenceOptions(**inference))
        self.max_batch = int(max_batch)
        self.queue: list[tuple[np.ndarray, asyncio.Future]] = []
        self.runner: asyncio.Task | None = None
        # forward passes and weight loads, one at a time, in order; torch threads are set per thread (OpenMP)
        self.thread = ThreadPoolExecutor(max_workers=1, initializer=torch.set_num_threads, initargs=(int(threads),))
        self.passes = self.positions = self.requests = 0

    async def evaluate(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw policy logits (B, A) and values (B,) for ``planes`` (B, C, N, N), from a batched pass."""
        future = asyncio.get_running_loop().create_future()
        self.queue.append((planes, future))
        self.requests += 1
        if self.runner is None or self.runner.done():
            self.runner = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.queue:
            batch, size = [], 0
            while self.queue and (not batch or size + len(self.queue[0][0]) <= self.max_batch):
                item = self.queue.pop(0)
                batch.append(item)
                size += len(item[0])
            planes = np.concatenate([p for p, _ in batch]) if len(batch) > 1 else batch[0][0]
            try:
                logits, values = await loop.run_in_executor(self.thread, self.leaf.raw, planes)
            except Exception as exc:  # every waiting actor gets the error, not a hang
                for _, future in batch:
                    future.set_exception(exc)
                continue
            self.passes += 1
            self.positions += size
            start = 0
            for p, future in batch:
                future.set_result((logits[start:start + len(p)], values[start:start + len(p)]))
                start += len(p)

    async def set_weights(self, weights: dict, version: int) -> None:
        """Load the learner's weights between two forward passes."""
        await asyncio.get_running_loop().run_in_executor(self.thread, self.net.load_state_dict, weights)
        self.version = int(version)

    def stats(self) -> dict[str, Any]:
        return {"passes": self.passes, "positions": self.positions, "requests": self.requests,
                "version": self.version, "device": str(self.device)}


class RemoteLeafEvaluator:
    """An actor's leaf evaluator that asks the `InferenceServer` (a Ray actor handle) and masks the answer itself."""

    def __init__(self, server: Any):
        import ray  # lazy: the [scale] extra; this class is only built inside Ray actors

        self.ray = ray
        self.server = server
        self.calls = 0
        self.positions = 0

    def __call__(self, leaves: Leaves) -> tuple[np.ndarray, np.ndarray]:
        logits, values = self.ray.get(self.server.evaluate.remote(np.ascontiguousarray(leaves.planes)))
        logits = np.array(logits)  # the object store hands out read-only arrays; masking writes
        self.calls += 1
        self.positions += len(leaves)
        return masked_priors(logits, leaves.legal), values
