"""The molecule env's settings as the molecule trainers share them (MolDQN, MaskablePPO): the MDP both agents are
compared on. The bounds are the env's own (`envs.molecule.env.MoleculeEnv`)."""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.runtime.settings import Settings, setting


@dataclass
class MoleculeEnvSettings(Settings):
    """The molecule env (`envs.molecule.env.MoleculeEnv`); the bounds are the env's own."""

    atom_types: list[str] = setting(["C", "N", "O"], help="elements an 'add atom' edit may add")
    valences: dict = setting(dict, help="element -> allowed valences, over RDKit's (an open mapping)")
    ring_sizes: list[int] = setting([5, 6], help="ring sizes a new bond may close (each >= 3)")
    max_atoms: int = setting(38, low=2, high=200, help="heavy-atom cap")
    max_steps: int = setting(40, low=1, help="edits per episode")
    fp_radius: int = setting(3, low=0, high=6, help="Morgan fingerprint radius")
    fp_bits: int = setting(2048, low=8, help="Morgan fingerprint length")
    discount: float = setting(0.9, low=0.0, high=1.0, low_open=True,
                              help="every_step reward: the score times discount ** steps left")
    reward_mode: str = setting("every_step", choices=("every_step", "final"),
                               help="final: only the molecule the agent stops at is paid (with allow_stop)")

    def check(self) -> None:
        if not self.atom_types:
            raise ValueError("env.atom_types must name at least one element")
        if any(r < 3 for r in self.ring_sizes):
            raise ValueError(f"env.ring_sizes must all be >= 3, got {self.ring_sizes}")
