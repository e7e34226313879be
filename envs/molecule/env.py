"""Gymnasium adapter for molecule design: `MoleculeEnv` (``arena/MoleculeDesign-v0``)."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from deep_arena.envs.molecule.chem import (
    DEFAULT_ATOM_TYPES,
    DEFAULT_MAX_ATOMS,
    DEFAULT_RING_SIZES,
    ActionCodec,
    EditableMolecule,
    EditRules,
    IllegalEditError,
    MoleculeError,
    illegal_reason,
)
from deep_arena.envs.molecule import rewards as reward_lib
from deep_arena.envs.molecule.render import MoleculeView
from deep_arena.envs.validation import check_options, check_seed

MAX_H = 4  # hydrogen-count one-hot width in graph observations (0..4)


def parse_action(action: Any) -> int:
    """An integer action from an int, a NumPy integer or a one-element integer array; ValueError otherwise
    (floats, NaN and strings are rejected rather than truncated)."""
    if isinstance(action, np.ndarray):
        if action.size != 1:
            raise ValueError(f"expected one integer action, got an array of shape {action.shape}")
        if not np.issubdtype(action.dtype, np.integer):
            raise ValueError(f"expected an integer action, got an array of dtype {action.dtype}")
        action = action.reshape(()).item()
    if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
        raise ValueError(f"expected an integer action, got {action!r} ({type(action).__name__})")
    return int(action)


class MoleculeEnv(gym.Env):
    """Design a small organic molecule one edit at a time; every state is a valid molecule.

    ## Description
    The state is one connected molecule of neutral atoms with implicit hydrogens (`envs.molecule.chem`). Each step
    applies one edit of MolDQN's edit set; `action_masks()` marks exactly the edits whose result is a valid molecule
    (it sanitizes in RDKit and respects the valence, ring-size and size rules), computed by valence arithmetic.
    An episode starts from a single carbon, from ``start_smiles`` or from ``reset(options={"smiles": S})``.

    ## Action space
    `Discrete(3·M·T + 4·M(M−1)/2 + 1)` with ``M = max_atoms`` and ``T = len(atom_types)`` (3,497 with the defaults).
    Every element can be stepped: with the default ``illegal_action="penalize"`` an edit the mask forbids leaves the
    molecule unchanged and pays ``illegal_penalty`` (most of the 3,497 are illegal in any state, so learners that
    ignore the mask, such as DQN or plain PPO, run but learn slowly; `action_masks()` is for MaskablePPO).

    | actions                  | edit                                                                           |
    |--------------------------|--------------------------------------------------------------------------------|
    | add atom (3·M·T)         | a new atom of type t bonded to atom i with order 1, 2 or 3                       |
    | set bond (4 per pair)    | pair (i < j) to order k: k = 1..3 bonds unbonded atoms (only if the ring closed, shortest path + 1, has an allowed size) or raises/lowers a bond; k = 0 removes a bond (only if the molecule stays connected, or a single atom is left apart, which is then dropped) |
    | stop (last)              | end the episode with the current molecule                                       |

    `ActionCodec` encodes and decodes (`env.unwrapped.codec.describe(a)` prints an action). Aromatic bonds are held in
    Kekulé form: edits change those single/double orders and RDKit re-perceives aromaticity after every edit.

    ## Observation space
    | `obs_type`      | space                                                                                    |
    |-----------------|------------------------------------------------------------------------------------------|
    | `"fingerprint"` | `Box(0, 1, (fp_bits + 1,), float32)`: Morgan bits (radius `fp_radius`) and steps left / max_steps |
    | `"graph"`       | `Dict(atoms=(M, E + 6 + 2), bonds=(3, M, M), steps_left=(1,))`: per atom the element one-hot (E = known elements), hydrogen count 0..4 (+ more), aromatic flag, present flag; bond-order adjacency (Kekulé orders 1, 2, 3) |

    ## Rewards
    ``objective`` names the property ``f`` (`envs.molecule.rewards`, formulas in its docstring):

    | objective     | f(mol)                                                                                   |
    |---------------|------------------------------------------------------------------------------------------|
    | `"qed"`       | RDKit QED                                                                                |
    | `"plogp"`     | penalized logP, raw: logP − SA − max(largest ring − 6, 0)                                |
    | `"plogp_zinc"`| the ZINC250k-normalised variant (JT-VAE / GCPN)                                          |
    | `"sa"`, `"logp"` | SA score, Crippen logP                                                                  |
    | `"similarity"`| Tanimoto (Morgan counts, radius 2) to ``objective_kwargs["target"]``                      |
    | `"sim_plogp"` | MolDQN's constrained form: pLogP if sim > δ else pLogP + 100·(sim − δ); sim to the episode's start molecule unless ``objective_kwargs["start"]`` is given |
    | `"multi"`     | weighted sum, ``objective_kwargs["weights"]``                                            |
    | callable      | ``reward_fn(mol) -> float`` (e.g. a GAN discriminator)                                   |

    With ``reward_mode="every_step"`` (MolDQN) each step pays ``f(s') · γ^(steps left)`` with ``γ = discount``
    (1.0 = no discount); with ``"final"`` only the last step pays ``f(s_T)``. ``info["score"]`` is the undiscounted
    ``f`` of the current molecule.

    ## Episode end
    `terminated` by the stop action; `truncated` after ``max_steps`` steps. An illegal action (default
    ``illegal_action="penalize"``) leaves the molecule unchanged, pays ``illegal_penalty`` instead of the step's
    reward, counts as a step and sets ``info["illegal_action"]``; with ``illegal_action="raise"`` (for debugging) it
    raises `IllegalEditError` (a `ValueError`) naming the rule it breaks, and nothing changes. An action outside the
    action space, or one that is not an integer, always raises ``ValueError``.

    ## Reset
    ``reset(seed=None, options=None)``: ``seed`` a non-negative integer or None; ``options={"smiles": S}`` starts
    from ``S`` (a SMILES string) instead of ``start_smiles``. A bad seed, an unknown option key or a non-string
    SMILES raises ``TypeError``/``ValueError`` naming it; an invalid SMILES raises `MoleculeError` (a `ValueError`).

    ## Info
    | key              | when         | value                                                                     |
    |------------------|--------------|---------------------------------------------------------------------------|
    | `smiles`         | always       | canonical SMILES of the current molecule                                  |
    | `action_mask`    | always       | bool (n_actions,): the valid edits (the stop action always)               |
    | `score`          | always       | undiscounted objective ``f`` of the current molecule                      |
    | `n_atoms`        | always       | heavy atoms                                                               |
    | `steps_left`     | always       | ``max_steps`` − steps taken                                               |
    | `illegal_action` | always       | True on a step whose action was illegal (penalised), else False           |
    | `illegal_reason` | illegal step | the rule the edit breaks, e.g. "there is no atom 5 (the molecule has 1)"  |

    ## Arguments
    | argument           | default         | meaning                                                                 |
    |--------------------|-----------------|-------------------------------------------------------------------------|
    | `objective`        | "qed"           | property to maximise (table above) or a callable ``f(mol) -> float``    |
    | `objective_kwargs` | None            | extra arguments of the objective (``target``, ``start``, ``delta``, ``weights``) |
    | `reward_fn`        | None            | a callable ``f(mol) -> float`` used instead of ``objective``            |
    | `start_smiles`     | "C"             | the start molecule, or a list of them (one drawn per episode with the env's RNG) |
    | `atom_types`       | C N O F S Cl    | elements the "add atom" actions may add                                 |
    | `valences`         | None            | allowed total valences per element, merged over the defaults (C 4, N 3, O 2, F 1, S 2, Cl 1, Br 1, I 1, P 3), e.g. ``{"S": (2, 4, 6)}`` for sulfoxides and sulfones |
    | `ring_sizes`       | (5, 6)          | ring sizes a new bond may close                                         |
    | `max_atoms`        | 38              | heavy-atom cap (MolDQN's pLogP experiments)                             |
    | `max_steps`        | 40              | steps per episode                                                       |
    | `obs_type`         | "fingerprint"   | "fingerprint" or "graph"                                                |
    | `fp_radius`, `fp_bits` | 3, 2048     | Morgan fingerprint radius and length (MolDQN's)                         |
    | `reward_mode`      | "every_step"    | "every_step" or "final"                                                 |
    | `discount`         | 1.0             | γ in the every-step reward ``f · γ^(steps left)``; in (0, 1]            |
    | `illegal_action`   | "penalize"      | "penalize": an illegal action pays ``illegal_penalty`` and changes nothing; "raise": `IllegalEditError` |
    | `illegal_penalty`  | −1.0            | reward of an illegal action under "penalize"                            |
    | `render_mode`      | None            | "human" (pygame window) or "rgb_array"                                  |

    ## Version history
    * v0: initial version.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        objective: str | Callable[[Chem.Mol], float] = "qed",
        objective_kwargs: Mapping[str, Any] | None = None,
        reward_fn: Callable[[Chem.Mol], float] | None = None,
        start_smiles: str | Sequence[str] = "C",
        atom_types: Sequence[str] = DEFAULT_ATOM_TYPES,
        valences: Mapping[str, Sequence[int]] | None = None,
        ring_sizes: Sequence[int] = DEFAULT_RING_SIZES,
        max_atoms: int = DEFAULT_MAX_ATOMS,
        max_steps: int = 40,
        obs_type: str = "fingerprint",
        fp_radius: int = 3,
        fp_bits: int = 2048,
        reward_mode: str = "every_step",
        discount: float = 1.0,
        illegal_action: str = "penalize",
        illegal_penalty: float = -1.0,
        render_mode: str | None = None,
    ):
        """The arguments are in the class docstring's Arguments table; a bad value raises ValueError naming it."""
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        if obs_type not in ("fingerprint", "graph"):
            raise ValueError(f"obs_type must be 'fingerprint' or 'graph', got {obs_type!r}")
        if reward_mode not in ("every_step", "final"):
            raise ValueError(f"reward_mode must be 'every_step' or 'final', got {reward_mode!r}")
        if illegal_action not in ("raise", "penalize"):
            raise ValueError(f"illegal_action must be 'raise' or 'penalize', got {illegal_action!r}")
        if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
            raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
        if not (0.0 < float(discount) <= 1.0):
            raise ValueError(f"discount must be in (0, 1], got {discount!r}")
        if not (isinstance(fp_bits, (int, np.integer)) and fp_bits >= 8 and 0 <= fp_radius <= 6):
            raise ValueError(f"fp_bits must be an integer >= 8 and fp_radius in 0..6, got {fp_bits!r}, {fp_radius!r}")
        if not np.isfinite(illegal_penalty):
            raise ValueError(f"illegal_penalty must be finite, got {illegal_penalty!r}")
        self.rules = EditRules(tuple(atom_types), dict(valences or {}), tuple(ring_sizes), int(max_atoms))
        self.codec = ActionCodec(self.rules)
        self.max_steps = int(max_steps)
        self.obs_type = obs_type
        self.reward_mode = reward_mode
        self.discount = float(discount)
        self.illegal_action = illegal_action
        self.illegal_penalty = float(illegal_penalty)
        self.render_mode = render_mode

        starts = [start_smiles] if isinstance(start_smiles, str) else list(start_smiles)
        if not starts:
            raise ValueError("start_smiles is empty")
        # Parse every start molecule now, so a bad one fails at construction with its name.
        self._starts = [EditableMolecule.from_smiles(s, self.rules) for s in starts]

        self._objective_name = objective if reward_fn is None else reward_fn
        self._objective_kwargs = dict(objective_kwargs or {})
        self._per_start_objective = (
            reward_fn is None and objective == "sim_plogp" and "start" not in self._objective_kwargs
        )
        self._objective_cache: dict[str, Callable[[Chem.Mol], float]] = {}
        self._objective = None if self._per_start_objective else reward_lib.make_objective(
            self._objective_name, **self._objective_kwargs)

        self.fp_radius = int(fp_radius)
        self.fp_bits = int(fp_bits)
        self._fp_gen = rdFingerprintGenerator.GetMorganGenerator(radius=self.fp_radius, fpSize=self.fp_bits)
        m = self.rules.max_atoms
        self.n_elements = len(self.rules.symbols)
        self.atom_feature_size = self.n_elements + (MAX_H + 2) + 2
        self.action_space = spaces.Discrete(self.codec.n_actions)
        if obs_type == "fingerprint":
            self.observation_space = spaces.Box(0.0, 1.0, (self.fp_bits + 1,), dtype=np.float32)
        else:
            self.observation_space = spaces.Dict({
                "atoms": spaces.Box(0.0, 1.0, (m, self.atom_feature_size), dtype=np.float32),
                "bonds": spaces.Box(0.0, 1.0, (3, m, m), dtype=np.float32),
                "steps_left": spaces.Box(0.0, 1.0, (1,), dtype=np.float32),
            })

        self.mol: EditableMolecule = self._starts[0]
        self.start: EditableMolecule = self._starts[0]
        self.steps = 0
        self._mask: np.ndarray | None = None
        self._score: float | None = None
        self._last_reward = 0.0
        self._view = None

    # --- public helpers -------------------------------------------------------------------------------------------

    @property
    def objective(self) -> Callable[[Chem.Mol], float]:
        """The objective of the current episode (``f`` in the reward table)."""
        if self._objective is not None:
            return self._objective
        key = self.start.smiles()
        if key not in self._objective_cache:
            self._objective_cache[key] = reward_lib.make_objective(
                "sim_plogp", start=key, **self._objective_kwargs)
        return self._objective_cache[key]

    @property
    def steps_left(self) -> int:
        return self.max_steps - self.steps

    def action_masks(self) -> np.ndarray:
        """Valid actions (sb3-contrib MaskablePPO calls this)."""
        if self._mask is None:
            self._mask = self.mol.legal_mask(self.codec)
        return self._mask.copy()

    def fingerprint(self, mol: Chem.Mol) -> np.ndarray:
        """Morgan bit vector (uint8) of ``mol`` with this env's radius and length."""
        return self._fp_gen.GetFingerprintAsNumPy(mol).astype(np.uint8, copy=False)

    def next_states(self) -> dict[str, Any]:
        """Every distinct molecule one valid action away (MolDQN scores these), deduplicated by canonical SMILES.

        Returns a dict with ``actions`` (int64, K), ``smiles`` (K strings), ``fingerprints`` (uint8, K x fp_bits),
        ``mols`` (RDKit Mols) and ``stop`` (bool, K: the entry is the stop action, whose molecule is the current
        one). The stop action is always last.
        """
        mask = self.action_masks()
        mask[self.codec.stop] = False
        seen: dict[str, int] = {}
        actions, smiles, mols = [], [], []
        current = self.mol.smiles()
        for a in np.flatnonzero(mask).tolist():
            m = self.mol.preview_mol(self.codec, a)
            s = Chem.MolToSmiles(m)
            if s in seen or s == current:
                continue
            seen[s] = a
            actions.append(a)
            smiles.append(s)
            mols.append(m)
        actions.append(self.codec.stop)
        smiles.append(self.mol.smiles())
        mols.append(self.mol.to_mol())
        fps = np.zeros((len(mols), self.fp_bits), dtype=np.uint8)
        for k, m in enumerate(mols):
            fps[k] = self._fp_gen.GetFingerprintAsNumPy(m)
        stop = np.zeros(len(actions), dtype=bool)
        stop[-1] = True
        return {"actions": np.asarray(actions, dtype=np.int64), "smiles": smiles, "fingerprints": fps,
                "mols": mols, "stop": stop}

    # --- Gymnasium API --------------------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        seed = check_seed(seed)
        options = check_options(options, ("smiles",), type(self).__name__)
        if "smiles" in options and not isinstance(options["smiles"], str):
            raise TypeError(f"options['smiles'] must be a SMILES string, got {options['smiles']!r} "
                            f"({type(options['smiles']).__name__})")
        super().reset(seed=seed)
        if "smiles" in options:
            self.start = EditableMolecule.from_smiles(options["smiles"], self.rules)
        elif len(self._starts) > 1:
            self.start = self._starts[int(self.np_random.integers(len(self._starts)))]
        else:
            self.start = self._starts[0]
        self.mol = self.start
        self.steps = 0
        self._mask = None
        self._score = None
        self._last_reward = 0.0
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info(illegal=False)

    def step(self, action: Any):
        a = parse_action(action)
        if not 0 <= a < self.codec.n_actions:
            raise ValueError(f"action {a} is outside Discrete({self.codec.n_actions})")
        if self.steps >= self.max_steps:
            raise RuntimeError("step() called after the episode ended; call reset()")
        mask = self.action_masks()
        illegal = not mask[a]
        terminated = False
        reason = None
        if illegal:
            if self.illegal_action == "raise":
                self.mol.apply(self.codec, a)  # raises IllegalEditError with the reason
                raise IllegalEditError(f"illegal action {a}", a, "masked")  # not reached: the mask is exact
            reason = illegal_reason(self.mol, self.codec, a) or "masked"
        elif a == self.codec.stop:
            terminated = True
        else:
            self.mol = self.mol._apply_unchecked(self.codec.decode(a))
            self._mask = None
            self._score = None
        self.steps += 1
        truncated = not terminated and self.steps >= self.max_steps
        if terminated:
            self.steps = self.max_steps  # a stopped episode is over: further steps need reset()
        if illegal:
            reward = self.illegal_penalty
        elif self.reward_mode == "every_step":
            reward = self.score() * self.discount ** max(self.max_steps - self.steps, 0)
        else:
            reward = self.score() if (terminated or truncated) else 0.0
        self._last_reward = float(reward)
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(reward), terminated, truncated, self._info(illegal=illegal, reason=reason)

    def score(self) -> float:
        """The objective (undiscounted) of the current molecule; computed once per molecule."""
        if self._score is None:
            value = float(self.objective(self.mol.to_mol()))
            if not np.isfinite(value):
                raise ValueError(f"objective {self._objective_name!r} returned {value} for {self.mol.smiles()}")
            self._score = value
        return self._score

    def _observation(self):
        left = np.float32(max(self.max_steps - self.steps, 0) / self.max_steps)
        if self.obs_type == "fingerprint":
            obs = np.empty(self.fp_bits + 1, dtype=np.float32)
            obs[:-1] = self.fingerprint(self.mol.to_mol())
            obs[-1] = left
            return obs
        return self._graph_observation(left)

    def _graph_observation(self, left: np.float32) -> dict[str, np.ndarray]:
        m = self.rules.max_atoms
        mol = self.mol
        atoms = np.zeros((m, self.atom_feature_size), dtype=np.float32)
        n = mol.n
        rd = mol.to_mol()
        idx = np.arange(n)
        atoms[idx, mol.elements[:n]] = 1.0
        hs = np.array([a.GetTotalNumHs() for a in rd.GetAtoms()], dtype=np.int64)
        atoms[idx, self.n_elements + np.minimum(hs, MAX_H + 1)] = 1.0
        atoms[idx, -2] = [a.GetIsAromatic() for a in rd.GetAtoms()]
        atoms[idx, -1] = 1.0
        bonds = np.zeros((3, m, m), dtype=np.float32)
        order = mol.order
        for k in (1, 2, 3):
            bonds[k - 1] = order == k
        return {"atoms": atoms, "bonds": bonds, "steps_left": np.array([left], dtype=np.float32)}

    def _info(self, illegal: bool, reason: str | None = None) -> dict[str, Any]:
        info = {
            "smiles": self.mol.smiles(),
            "action_mask": self.action_masks(),
            "score": self.score(),
            "n_atoms": self.mol.n,
            "steps_left": max(self.max_steps - self.steps, 0),
            "illegal_action": bool(illegal),
        }
        if illegal:
            info["illegal_reason"] = reason
        return info

    def __getstate__(self) -> dict[str, Any]:
        # copy.deepcopy and pickle: RDKit's fingerprint generator cannot be copied (it is rebuilt from fp_radius and
        # fp_bits) and the copy gets no window of its own (the view is made again on its first render()).
        state = self.__dict__.copy()
        state["_fp_gen"] = None
        state["_view"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fp_gen = rdFingerprintGenerator.GetMorganGenerator(radius=self.fp_radius, fpSize=self.fp_bits)

    # --- rendering ------------------------------------------------------------------------------------------------

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='human' or 'rgb_array'")
            return None
        if self._view is None:
            self._view = MoleculeView()
        props = {"score": self.score()}
        try:
            props.update(reward_lib.property_table(self.mol.to_mol()))
        except Exception:  # a property failing must not stop the picture
            pass
        frame = self._view.frame(self.mol.to_mol(), {
            "smiles": self.mol.smiles(), "step": self.steps, "max_steps": self.max_steps,
            "reward": self._last_reward, "properties": props,
        })
        if self.render_mode == "rgb_array":
            return frame
        self._view.show(frame)
        return None

    def close(self):
        if self._view is not None:
            self._view.close()
            self._view = None


__all__ = ["MoleculeEnv", "MoleculeError", "IllegalEditError", "parse_action"]
