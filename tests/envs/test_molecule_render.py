"""Molecule rendering (envs/molecule/render.py), headless."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"  # before pygame is imported anywhere: no real display here
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from deep_arena.envs.molecule.render import MoleculeView, draw_molecule, molecule_grid, save_grid_png, wrap_text

REPO = Path(__file__).resolve().parents[2]
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
AWKWARD = ["C", "[Cl-]", "[Na+].[Cl-]", "[CH3]", "[H][H]", "C1" + "C" * 28 + "C1", "[O-][n+]1ccccc1", "*C", ASPIRIN]


def assert_image(img: np.ndarray, shape: tuple[int, int, int]) -> None:
    assert img.shape == shape
    assert img.dtype == np.uint8
    assert img.min() < img.max()  # something was drawn


@pytest.mark.parametrize("smiles", AWKWARD)
def test_draw_molecule_shapes(smiles: str) -> None:
    m = Chem.MolFromSmiles(smiles)
    img = draw_molecule(m, size=(240, 160), legend=smiles[:10])
    assert_image(img, (160, 240, 3))
    assert m.GetNumConformers() == 0  # the caller's molecule was not given coordinates


def test_draw_molecule_accepts_smiles_and_empty() -> None:
    assert_image(draw_molecule(ASPIRIN), (300, 400, 3))
    blank = draw_molecule(Chem.Mol(), size=(50, 40))
    assert blank.shape == (40, 50, 3) and (blank == 255).all()
    with pytest.raises(ValueError, match="invalid SMILES"):
        draw_molecule("C1CC")


def test_frame_shape_and_content() -> None:
    view = MoleculeView()
    frame = view.frame(Chem.MolFromSmiles(ASPIRIN), {"step": 3, "max_steps": 40, "reward": 0.55})
    assert_image(frame, (450, 600, 3))
    other = view.frame(Chem.MolFromSmiles(ASPIRIN), {"step": 4, "max_steps": 40, "reward": 0.55})
    assert not np.array_equal(frame, other)  # the text panel changed
    # the depiction area is mostly white, the panel is dark
    assert frame[:, :300].mean() > 200 and frame[:, -100:].mean() < 120


@pytest.mark.parametrize("smiles", AWKWARD + ["C" * 30 + "c1ccc(cc1)" * 15 + "N(CC)CC"])
def test_frame_awkward_and_long_smiles(smiles: str) -> None:
    view = MoleculeView(width=500, height=360, panel_width=200)
    frame = view.frame(smiles, {"properties": {"qed": 0.5, "plogp": -1.25}, "step": 1, "max_steps": 40})
    assert_image(frame, (360, 500, 3))


def test_frame_without_info_and_empty_molecule() -> None:
    view = MoleculeView()
    assert_image(view.frame("CCO"), (450, 600, 3))  # properties computed
    assert_image(view.frame(Chem.Mol(), {}), (450, 600, 3))
    assert_image(view.frame(None, {"message": "no molecule yet"}), (450, 600, 3))


def test_wrap_text() -> None:
    fits = lambda s: len(s) <= 10  # noqa: E731
    assert wrap_text("abc", fits, 3) == ["abc"]
    assert wrap_text("a" * 25, fits, 3) == ["a" * 10, "a" * 10, "a" * 5]
    lines = wrap_text("a" * 40, fits, 3)
    assert len(lines) == 3 and lines[-1].endswith("...") and all(fits(x) for x in lines)


def test_show_and_close_headless() -> None:
    import pygame

    view = MoleculeView(fps=1000)
    frame = view.frame("CCO", {"step": 1})
    assert view.show(frame) is True and view.is_open
    assert view.show(frame) is True
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert view.show(frame) is False and not view.is_open
    assert view.render("CCO").shape == (450, 600, 3)
    view.close()
    view.close()  # idempotent
    assert not view.is_open
    with pytest.raises(ValueError, match="H, W, 3"):
        view.show(np.zeros((10, 10), dtype=np.uint8))


def test_grid_shape_and_png(tmp_path: Path) -> None:
    smiles = ["CCO", "c1ccccc1", "[Na+].[Cl-]", "C1CCCCCCC1", "O"]
    grid = molecule_grid(smiles, legends=[f"#{i}" for i in range(5)], mols_per_row=4, sub_img_size=(250, 200))
    assert_image(grid, (400, 1000, 3))
    small = molecule_grid([Chem.MolFromSmiles(ASPIRIN)], mols_per_row=4, sub_img_size=(120, 100))
    assert_image(small, (100, 120, 3))  # one molecule: one cell, not four

    from PIL import Image

    path = save_grid_png(tmp_path / "sub" / "best.png", smiles, [s for s in smiles], mols_per_row=3)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (750, 400)


def test_grid_errors() -> None:
    with pytest.raises(ValueError, match="item 1: invalid SMILES"):
        molecule_grid(["CCO", "C1CC"])
    with pytest.raises(ValueError, match="2 legends for 1 molecules"):
        molecule_grid(["CCO"], legends=["a", "b"])
    with pytest.raises(ValueError, match="no molecules"):
        molecule_grid([])


def test_import_does_not_load_pygame() -> None:
    code = "import sys, envs.molecule.render, envs.molecule.rewards; assert 'pygame' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
