"""MolGAN-style molecular graph GAN: graph tensors, RDKit conversion, generator, R-GCN critic and reward network.

Graphs have ``N`` (default 9) atom slots. Atom types ``ATOMS = ("", "C", "N", "O", "F")`` (index 0: empty slot);
bond types ``BONDS = (none, single, double, triple)``: molecules are kekulized, so aromatic rings appear as
alternating single/double bonds.

Encoding (:func:`encode_mol`) accepts molecules with ≤ N heavy atoms, elements C N O F only, no formal charges and
no radicals; others give ``None``. Decoding (:func:`decode_graph`) builds an RDKit molecule from the occupied slots
(bonds touching an empty slot are dropped), sanitizes it and returns ``None`` when sanitizing fails, when no atom
is left, or when the graph is **disconnected** (choice: a disconnected graph counts as invalid, as in MolGAN's
validity; the largest fragment is not kept). Valid molecules are returned as canonical SMILES by the samplers.

Sampling (:meth:`MolGAN.sample_graphs`) decodes the generator's logits in one of three ways: ``argmax`` (MolGAN's
evaluation), ``sample`` (one draw per atom and per atom pair: the distribution the critic saw in training) and
``valence`` (a ``sample`` draw passed through :func:`valence_project`, which keeps bonds within each atom's valence
in order of the generator's bond probability and joins fragments; validity correction in the sense of GraphNVP and
MoFlow). Every decoding ends in :func:`decode_graph`, so a graph the projection cannot repair is still counted
invalid. A sampling ``temperature`` divides the logits first.

The generator maps ``z`` to atom logits ``(B, N, T)`` and symmetric bond logits ``(B, N, N, K)`` (diagonal forced
to "no bond"); training samples are hard Gumbel-softmax one-hots with straight-through gradients. The critic is a
relational GCN (one weight matrix per bond type plus a self connection) with a gated graph aggregation, then an
MLP; optional *minibatch standard deviation* (the batch's std of the graph embedding appended to every sample's
features) lets it see a collapsed batch, against mode collapse. The reward network is the same R-GCN with a
sigmoid output (a property in [0, 1]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem, RDLogger
from torch import nn

from deep_arena.gan.config import DECODINGS, MAX_ATOMS  # the settings' choices and default live with the settings
from deep_arena.runtime import CheckpointError, load_checkpoint, save_checkpoint

__all__ = ["ATOMS", "BONDS", "MAX_ATOMS", "MAX_VALENCE", "encode_mol", "encode_smiles", "decode_graph",
           "valence_project", "graphs_to_tensors",
           "Generator", "RGCNCritic", "MolGAN", "canonical"]

ATOMS: tuple[str, ...] = ("", "C", "N", "O", "F")
BONDS: tuple[Any, ...] = (None, Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE)
_BOND_INDEX = {b: i for i, b in enumerate(BONDS) if b is not None}


def canonical(mol: Chem.Mol | None) -> str | None:
    return None if mol is None else Chem.MolToSmiles(mol)


def encode_mol(mol: Chem.Mol | None, max_atoms: int = MAX_ATOMS, atoms: Sequence[str] = ATOMS
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(atom_types[N], bond_types[N, N])`` int arrays of a molecule, or ``None`` when it cannot be represented
    (more than ``max_atoms`` heavy atoms, another element, a formal charge, a radical, or kekulization fails)."""
    if mol is None:
        return None
    n = mol.GetNumHeavyAtoms() if mol.GetNumAtoms() else 0
    if n == 0 or n > max_atoms:
        return None
    try:
        mol = Chem.RemoveHs(mol)
        mol = Chem.Mol(mol)
        Chem.Kekulize(mol, clearAromaticFlags=True)
    except Exception:
        return None
    index = {sym: i for i, sym in enumerate(atoms) if sym}
    a = np.zeros(max_atoms, dtype=np.int64)
    for atom in mol.GetAtoms():
        if atom.GetSymbol() not in index or atom.GetFormalCharge() != 0 or atom.GetNumRadicalElectrons():
            return None
        a[atom.GetIdx()] = index[atom.GetSymbol()]
    b = np.zeros((max_atoms, max_atoms), dtype=np.int64)
    for bond in mol.GetBonds():
        k = _BOND_INDEX.get(bond.GetBondType())
        if k is None:
            return None
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        b[i, j] = b[j, i] = k
    return a, b


def encode_smiles(smiles: str, max_atoms: int = MAX_ATOMS) -> tuple[np.ndarray, np.ndarray] | None:
    RDLogger.DisableLog("rdApp.*")
    try:
        return encode_mol(Chem.MolFromSmiles(smiles), max_atoms)
    finally:
        RDLogger.EnableLog("rdApp.*")


def decode_graph(atom_types: Sequence[int], bond_types: Sequence[Sequence[int]], atoms: Sequence[str] = ATOMS
                 ) -> Chem.Mol | None:
    """An RDKit molecule from index arrays, or ``None`` if it is empty, disconnected or fails sanitization."""
    atom_types = np.asarray(atom_types)
    bond_types = np.asarray(bond_types)
    mol = Chem.RWMol()
    slot_to_idx: dict[int, int] = {}
    for slot, t in enumerate(atom_types):
        if t > 0:
            slot_to_idx[slot] = mol.AddAtom(Chem.Atom(atoms[int(t)]))
    if not slot_to_idx:
        return None
    n = len(atom_types)
    for i in range(n):
        for j in range(i + 1, n):
            k = int(bond_types[i, j])
            if k > 0 and i in slot_to_idx and j in slot_to_idx:
                mol.AddBond(slot_to_idx[i], slot_to_idx[j], BONDS[k])
    out = mol.GetMol()
    RDLogger.DisableLog("rdApp.*")
    try:
        Chem.SanitizeMol(out)
    except Exception:
        return None
    finally:
        RDLogger.EnableLog("rdApp.*")
    if len(Chem.GetMolFrags(out)) != 1:
        return None
    return out


#: Largest total bond order of each atom type (index into ``ATOMS``; neutral atoms, the rest is implicit H).
MAX_VALENCE: dict[str, int] = {"C": 4, "N": 3, "O": 2, "F": 1}


def valence_project(atom_types: np.ndarray, bond_types: np.ndarray, bond_presence: np.ndarray,
                    atoms: Sequence[str] = ATOMS) -> np.ndarray:
    """Valence-constrained decoding of one generated graph: new bond index array that respects every atom's valence.

    The generator proposes a bond type for each atom pair; taken as they are, many graphs over-fill an atom's valence
    or fall apart into fragments (MolGAN's invalid samples). This keeps the proposals in order of the generator's
    probability that the pair is bonded (``bond_presence[i, j]`` = 1 − p(no bond)): each proposed bond gets the
    largest order up to the proposed one that both atoms still have room for, and is dropped when one has none.
    Fragments left apart are then joined by single bonds, most probable pair first, between atoms with room left
    (GraphNVP/MoFlow call this a validity correction). Graphs that cannot be joined keep their fragments, and
    :func:`decode_graph` still rejects them: the result is checked, never assumed valid. Atom types are unchanged.
    """
    atom_types = np.asarray(atom_types)
    proposed = np.asarray(bond_types)
    n = len(atom_types)
    occupied = [i for i in range(n) if atom_types[i] > 0]
    room = {i: MAX_VALENCE[atoms[int(atom_types[i])]] for i in occupied}
    out = np.zeros_like(proposed)
    parent = {i: i for i in occupied}          # union-find over the kept bonds: the fragments

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = [(i, j) for a, i in enumerate(occupied) for j in occupied[a + 1:] if proposed[i, j] > 0]
    pairs.sort(key=lambda ij: -float(bond_presence[ij[0], ij[1]]))
    for i, j in pairs:
        order = min(int(proposed[i, j]), room[i], room[j])
        if order > 0:
            out[i, j] = out[j, i] = order
            room[i] -= order
            room[j] -= order
            parent[find(i)] = find(j)
    while len({find(i) for i in occupied}) > 1:     # join fragments, most probable pair first
        best, best_p = None, -1.0
        for a, i in enumerate(occupied):
            if room[i] < 1:
                continue
            for j in occupied[a + 1:]:
                if room[j] >= 1 and find(i) != find(j) and float(bond_presence[i, j]) > best_p:
                    best, best_p = (i, j), float(bond_presence[i, j])
        if best is None:
            break                                            # cannot be joined: decode_graph rejects it
        i, j = best
        out[i, j] = out[j, i] = 1
        room[i] -= 1
        room[j] -= 1
        parent[find(i)] = find(j)
    return out


def graphs_to_tensors(atom_types: np.ndarray | torch.Tensor, bond_types: np.ndarray | torch.Tensor,
                      n_atom_types: int = len(ATOMS), n_bond_types: int = len(BONDS)
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """One-hot ``(adjacency (B, N, N, K), nodes (B, N, T))`` float tensors from index arrays (batched)."""
    a = torch.as_tensor(atom_types, dtype=torch.long)
    b = torch.as_tensor(bond_types, dtype=torch.long)
    return F.one_hot(b, n_bond_types).float(), F.one_hot(a, n_atom_types).float()


class Generator(nn.Module):
    """MLP ``z -> (bond logits (B, N, N, K) symmetric, atom logits (B, N, T))``."""

    def __init__(self, latent_dim: int = 32, hidden: Sequence[int] = (128, 256, 512), max_atoms: int = MAX_ATOMS,
                 n_atom_types: int = len(ATOMS), n_bond_types: int = len(BONDS), dropout: float = 0.0) -> None:
        super().__init__()
        self.latent_dim, self.max_atoms = latent_dim, max_atoms
        self.n_atom_types, self.n_bond_types = n_atom_types, n_bond_types
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.Tanh(), nn.Dropout(dropout)]
            width = h
        self.body = nn.Sequential(*layers)
        self.edges = nn.Linear(width, max_atoms * max_atoms * n_bond_types)
        self.nodes = nn.Linear(width, max_atoms * n_atom_types)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(z)
        n, k = self.max_atoms, self.n_bond_types
        e = self.edges(h).view(-1, n, n, k)
        e = (e + e.transpose(1, 2)) / 2
        no_self = torch.zeros(n, n, k, device=e.device, dtype=e.dtype)
        no_self[torch.arange(n), torch.arange(n), 1:] = -1e4     # diagonal: "no bond"
        e = e + no_self
        x = self.nodes(h).view(-1, n, self.n_atom_types)
        return e, x


def gumbel_hard(edge_logits: torch.Tensor, node_logits: torch.Tensor, tau: float = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Hard (one-hot) straight-through Gumbel-softmax samples; the adjacency stays symmetric."""
    e = F.gumbel_softmax(edge_logits, tau=tau, hard=True, dim=-1)
    upper = torch.triu(torch.ones(e.shape[1], e.shape[2], device=e.device), diagonal=1)[None, :, :, None]
    e = e * upper
    e = e + e.transpose(1, 2)
    diag = torch.eye(e.shape[1], device=e.device)[None, :, :, None] * F.one_hot(
        torch.zeros((), dtype=torch.long, device=e.device), e.shape[-1]).float()
    e = e + diag                                           # diagonal: one-hot "no bond"
    return e, F.gumbel_softmax(node_logits, tau=tau, hard=True, dim=-1)


class RGCNCritic(nn.Module):
    """Relational GCN over bond types + gated graph aggregation + MLP -> one score per graph.

    :param sigmoid: squash the output to (0, 1) (the reward network).
    :param minibatch_std: append the batch's mean std of the graph embedding (against mode collapse).
    """

    def __init__(self, n_atom_types: int = len(ATOMS), n_bond_types: int = len(BONDS),
                 gcn: Sequence[int] = (64, 32), aggregate: int = 128, mlp: Sequence[int] = (128, 64),
                 sigmoid: bool = False, minibatch_std: bool = False) -> None:
        super().__init__()
        self.relations = n_bond_types - 1                   # "no bond" carries no message
        self.sigmoid, self.minibatch_std = sigmoid, minibatch_std
        self.fixed_batch_std: float | None = None   # scoring single molecules: use this instead of the batch's std
        self.gcn_rel = nn.ModuleList()
        self.gcn_self = nn.ModuleList()
        width = n_atom_types
        for h in gcn:
            self.gcn_rel.append(nn.Linear(width, h * self.relations, bias=False))
            self.gcn_self.append(nn.Linear(width, h))
            width = h
        agg_in = width + n_atom_types
        self.gate = nn.Linear(agg_in, aggregate)
        self.value = nn.Linear(agg_in, aggregate)
        layers: list[nn.Module] = []
        width = aggregate + (1 if minibatch_std else 0)
        for h in mlp:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def forward(self, adjacency: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        adj = adjacency[..., 1:].permute(0, 3, 1, 2)         # (B, R, N, N)
        h = nodes
        for rel, self_lin in zip(self.gcn_rel, self.gcn_self):
            b, n, _ = h.shape
            msgs = rel(h).view(b, n, self.relations, -1).permute(0, 2, 1, 3)   # (B, R, N, H)
            h = torch.tanh(self_lin(h) + torch.matmul(adj, msgs).sum(dim=1))
        hx = torch.cat([h, nodes], dim=-1)
        g = torch.tanh((torch.sigmoid(self.gate(hx)) * torch.tanh(self.value(hx))).sum(dim=1))
        if self.minibatch_std:
            if self.fixed_batch_std is not None:
                std = g.new_tensor(self.fixed_batch_std)
            else:
                std = g.std(dim=0, unbiased=False).mean() if g.shape[0] > 1 else g.new_zeros(())
                self.last_batch_std = float(std.detach())
            g = torch.cat([g, std.expand(g.shape[0], 1)], dim=1)
        out = self.head(g).squeeze(-1)
        return torch.sigmoid(out) if self.sigmoid else out


def _check_decoding(decode: str, temperature: float) -> None:
    if decode not in DECODINGS:
        raise ValueError(f"decode must be one of {', '.join(DECODINGS)}, got {decode!r}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")


class MolGAN(nn.Module):
    """A trained generator (and its critic, for :class:`gan.rewards.DiscriminatorReward`) with a sampler.

    ``sample(n, seed=None) -> list[str | None]``: canonical SMILES, ``None`` for an invalid graph (argmax decoding).
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        cfg = dict(config or {})
        self.config = {"latent_dim": int(cfg.get("latent_dim", 32)),
                       "generator_hidden": [int(h) for h in cfg.get("generator_hidden", (128, 256, 512))],
                       "max_atoms": int(cfg.get("max_atoms", MAX_ATOMS)),
                       "minibatch_std": bool(cfg.get("minibatch_std", False)),
                       "critic_gcn": [int(h) for h in cfg.get("critic_gcn", (64, 32))],
                       "decode": str(cfg.get("decode", "sample")),
                       "temperature": float(cfg.get("temperature", 1.0))}
        _check_decoding(self.config["decode"], self.config["temperature"])
        c = self.config
        self.generator = Generator(c["latent_dim"], c["generator_hidden"], c["max_atoms"])
        self.critic = RGCNCritic(gcn=c["critic_gcn"], minibatch_std=c["minibatch_std"])
        # critic scores of real / generated data, measured when saved (DiscriminatorReward's normalisation)
        self.critic_stats = {"real_mean": 0.0, "real_std": 1.0, "fake_mean": 0.0, "real_batch_std": 0.0}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def sample_graphs(self, n: int, seed: int | None = None, decode: str | None = None,
                      temperature: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Atom/bond index arrays of ``n`` generated graphs.

        ``decode``: ``"sample"`` draws each atom and bond type from the generator's softmax (what the critic saw in
        training: the Gumbel-max trick samples exactly this distribution); ``"argmax"`` takes the most likely
        type (MolGAN's evaluation); ``"valence"`` samples like ``"sample"`` and then applies
        :func:`valence_project` (valence-constrained bonds, fragments joined). Default: the model's
        ``config["decode"]``. ``temperature`` divides the logits before decoding (above 1: more diverse; FCD
        says whether the samples still resemble the training data). Default: ``config["temperature"]`` (1.0 unless set).
        """
        decode = decode or self.config["decode"]
        temperature = float(self.config["temperature"] if temperature is None else temperature)
        _check_decoding(decode, temperature)
        gen = torch.Generator(device="cpu")
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        was = self.generator.training
        self.generator.eval()
        try:
            atoms, bonds = [], []
            for start in range(0, n, 1024):
                m = min(1024, n - start)
                z = torch.randn(m, self.config["latent_dim"], generator=gen).to(self.device)
                e, x = self.generator(z)
                e, x = e / temperature, x / temperature
                if decode == "valence":      # the order in which proposed bonds are kept
                    presence = 1.0 - torch.softmax(e.float(), dim=-1)[..., 0].cpu().numpy()
                if decode in ("sample", "valence"):
                    ge = -torch.log(-torch.log(torch.rand(e.shape, generator=gen).clamp_(1e-12, 1.0)))
                    gx = -torch.log(-torch.log(torch.rand(x.shape, generator=gen).clamp_(1e-12, 1.0)))
                    e = e.float().cpu() + ge
                    e = torch.triu(e.permute(0, 3, 1, 2), diagonal=1).permute(0, 2, 3, 1)
                    e = e + e.transpose(1, 2)             # one draw per atom pair, mirrored
                    x = x.float().cpu() + gx
                atoms.append(x.argmax(-1).cpu().numpy())
                b = e.argmax(-1).cpu().numpy()
                idx = np.arange(b.shape[1])
                b[:, idx, idx] = 0
                if decode == "valence":
                    b = np.stack([valence_project(a_i, b_i, p_i)
                                  for a_i, b_i, p_i in zip(atoms[-1], b, presence)])
                bonds.append(b)
        finally:
            self.generator.train(was)
        if not atoms:
            return np.zeros((0, self.config["max_atoms"]), int), np.zeros((0,) + (self.config["max_atoms"],) * 2, int)
        return np.concatenate(atoms), np.concatenate(bonds)

    def sample(self, n: int, seed: int | None = None, decode: str | None = None,
               temperature: float | None = None) -> list[str | None]:
        """``n`` canonical SMILES (``None`` where the graph is not a valid, connected molecule)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        atoms, bonds = self.sample_graphs(int(n), seed, decode, temperature)
        return [canonical(decode_graph(a, b)) for a, b in zip(atoms, bonds)]

    def save(self, path: Any) -> Any:
        return save_checkpoint(path, {"kind": "molgan-generator", "config": self.config,
                                      "generator": self.generator.state_dict(), "critic": self.critic.state_dict(),
                                      "critic_stats": dict(self.critic_stats), "atoms": list(ATOMS)})

    @classmethod
    def load(cls, path: Any, device: str | torch.device = "cpu") -> "MolGAN":
        """Load a ``generator.pt`` (or a training checkpoint) written by this package (``weights_only``)."""
        state = load_checkpoint(path, map_location="cpu")
        if state.get("kind") not in ("molgan-generator", "molgan-checkpoint"):
            raise CheckpointError(path, f"is not a MolGAN generator or checkpoint (kind {state.get('kind')!r})")
        try:
            if state["kind"] == "molgan-checkpoint":
                model = cls(state["config"]["model"])
                model.generator.load_state_dict(state["wgan"]["generator"])
                model.critic.load_state_dict(state["wgan"]["critic"])
            else:
                model = cls(state["config"])
                model.generator.load_state_dict(state["generator"])
                model.critic.load_state_dict(state["critic"])
            model.critic_stats.update({k: float(v) for k, v in state.get("critic_stats", {}).items()})
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(path, f"does not hold a matching MolGAN model: {exc}") from None
        return model.to(device).eval()
