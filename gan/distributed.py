"""Data-parallel training under ``torchrun`` (DistributedDataParallel) for the language model and the LatentGAN.

``torchrun --nproc_per_node N -m deep_arena.scripts.train gan lm ...`` starts N processes with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and a rendezvous address in their environments; :func:`setup` joins them into one
process group (NCCL when the run's device is CUDA, each process on ``cuda:LOCAL_RANK``; gloo on the CPU). Each rank
takes every N-th batch of an epoch's batch order (the same order on every rank: it comes from the seed), so one
optimizer step of the group covers N batches and an epoch has ``batches // N`` steps; gradients are averaged by DDP.
Only rank 0 writes TensorBoard events, checkpoints and models. Started without ``torchrun`` (no ``WORLD_SIZE`` or
``WORLD_SIZE=1``) nothing of this is active and training runs as before.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "setup", "info", "agree", "weights_digest", "gather_strings", "share", "barrier", "shutdown",
           "NullWriter"]


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


_INFO = DistInfo()


def info() -> DistInfo:
    """This process's rank and the group size (rank 0 of 1 outside torchrun)."""
    return _INFO


def setup(device: str = "auto") -> tuple[DistInfo, str]:
    """Join the torchrun process group when ``WORLD_SIZE`` > 1 (once); returns the info and the device each rank
    trains on (``cuda:LOCAL_RANK`` with NCCL, else ``device`` unchanged)."""
    global _INFO
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _INFO, device
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device != "cpu" and not device.startswith("mps") and torch.cuda.is_available()
    if not dist.is_initialized():
        if use_cuda:
            torch.cuda.set_device(local)
        # rank 0's sample checks (sampling, FCD) run while the others wait at the next step: allow them time
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(hours=2))
    _INFO = DistInfo(rank=rank, world=world, local_rank=local)
    return _INFO, (f"cuda:{local}" if use_cuda else "cpu")


def agree(flag: bool) -> bool:
    """True on every rank when it is true on any (stop requests, time budgets); the flag itself outside DDP."""
    if not _INFO.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def _device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def gather_strings(text: str) -> list[str]:
    """Every rank's ``text`` (in rank order); ``[text]`` outside DDP."""
    if not _INFO.enabled:
        return [text]
    out: list[str | None] = [None] * _INFO.world
    dist.all_gather_object(out, text)
    return [str(t) for t in out]


def weights_digest(state_dict: Mapping[str, torch.Tensor]) -> str:
    """SHA-1 of a state dict's tensors (names, shapes and bytes, on the CPU): equal digests, equal weights."""
    h = hashlib.sha1()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


class NullWriter:
    """A SummaryWriter that writes nothing (ranks other than 0)."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


def share(text: str | None) -> str:
    """Rank 0's ``text`` on every rank (the run directory rank 0 created); ``text`` itself outside DDP."""
    if not _INFO.enabled:
        return str(text)
    box = [text]
    dist.broadcast_object_list(box, src=0)
    return str(box[0])


def barrier() -> None:
    if _INFO.enabled:
        dist.barrier()


def shutdown() -> None:
    """Leave the process group (end of a torchrun script)."""
    if _INFO.enabled and dist.is_initialized():
        dist.destroy_process_group()
