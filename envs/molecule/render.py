"""Rendering of molecules: RDKit 2D depictions as NumPy images, a pygame frame / window, image grids.

Apart from the chemistry core: pygame and RDKit's drawing modules are imported lazily inside the functions that
need them, so importing this module (or the env) needs neither pygame nor a display. Headless use works with
``SDL_VIDEODRIVER=dummy``.

X11 windows and RDKit's Cairo: the PyPI rdkit wheel bundles its own cairo and libxcb (renamed files, the same
symbol names) and links the system libX11. Loading RDKit's drawing module first binds that libX11's ``xcb_*``
calls to the bundled libxcb; a pygame/SDL X11 window opened afterwards then drives one X connection through two
libxcb copies and ``pygame.display.set_mode`` segfaults. Hence: :func:`_draw_modules` loads the system libX11
globally before RDKit's drawing modules (so libX11 keeps the system libxcb), and :meth:`MoleculeView.render` /
:meth:`MoleculeView.open` open the window before any depiction is drawn.

* :func:`draw_molecule` -- one depiction, ``(H, W, 3)`` ``uint8`` (``MolDraw2DCairo``; ``Draw.MolToImage``
  where Cairo is missing).
* :class:`MoleculeView` -- a frame with the depiction and a text panel (SMILES, step / max steps, last reward,
  properties): :meth:`MoleculeView.frame` for ``rgb_array``, :meth:`MoleculeView.show` for ``human``.
* :func:`molecule_grid` / :func:`save_grid_png` -- a grid of the best molecules for TensorBoard
  (``writer.add_image(tag, grid, step, dataformats="HWC")``) and a PNG in the run directory.
"""

from __future__ import annotations

import ctypes
import io
import math
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image  # Pillow comes with the rdkit wheel
from rdkit import Chem, rdBase

from deep_arena.envs.molecule.rewards import property_table

__all__ = ["draw_molecule", "MoleculeView", "molecule_grid", "save_grid_png", "wrap_text"]

# Palette (RGB).
BACKGROUND = (255, 255, 255)
PANEL_BG = (38, 42, 50)
PANEL_TEXT = (232, 232, 232)
PANEL_DIM = (160, 166, 178)
PANEL_ACCENT = (240, 200, 110)

_DRAW_MODULES: tuple[Any, Any] | None = None


def _load_system_x11() -> None:
    """Load the system libX11 with ``RTLD_GLOBAL`` (if there is one) before RDKit's drawing modules: see the
    module docstring. Harmless where it is missing (no X11 here, so no X11 window either) or already loaded."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return
    try:
        ctypes.CDLL("libX11.so.6", mode=ctypes.RTLD_GLOBAL)
    except OSError:
        pass


def _draw_modules() -> tuple[Any, Any]:
    """``(rdkit.Chem.Draw, rdMolDraw2D or None)``, imported on first use; ``rdMolDraw2D`` is ``None`` where the
    RDKit build has no Cairo (the PyPI wheels have it; some conda / source builds do not)."""
    global _DRAW_MODULES
    if _DRAW_MODULES is None:
        if "rdkit.Chem.Draw" not in sys.modules:
            _load_system_x11()
        from rdkit.Chem import Draw  # lazy: RDKit's Cairo links libX11, loaded above first (docstring: X11)

        try:
            from rdkit.Chem.Draw import rdMolDraw2D  # lazy: as Draw above; absent in RDKit builds without Cairo
        except ImportError:  # pragma: no cover - depends on the RDKit build
            rdMolDraw2D = None
        if rdMolDraw2D is not None and not hasattr(rdMolDraw2D, "MolDraw2DCairo"):  # pragma: no cover
            rdMolDraw2D = None
        _DRAW_MODULES = (Draw, rdMolDraw2D)
    return _DRAW_MODULES


def _to_mol(mol_or_smiles: Chem.Mol | str | None, what: str = "molecule") -> Chem.Mol:
    if mol_or_smiles is None:
        return Chem.Mol()
    if isinstance(mol_or_smiles, Chem.Mol):
        return mol_or_smiles
    if isinstance(mol_or_smiles, str):
        mol = Chem.MolFromSmiles(mol_or_smiles)
        if mol is None:
            raise ValueError(f"{what}: invalid SMILES {mol_or_smiles!r}")
        return mol
    raise ValueError(f"{what}: expected an RDKit Mol or a SMILES string, got {type(mol_or_smiles).__name__}")


def _png_to_array(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return _pil_to_array(img)


def _pil_to_array(img: Any) -> np.ndarray:
    if img.mode == "RGBA":  # composite on white rather than dropping alpha (transparent -> black)
        background = Image.new("RGB", img.size, BACKGROUND)
        background.paste(img, mask=img.split()[3])
        img = background
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def _prepared(mol: Chem.Mol) -> Chem.Mol:
    """A drawable copy (the caller's molecule is never given coordinates): kekulized if possible."""
    rdMolDraw2D = _draw_modules()[1]
    with rdBase.BlockLogs():
        try:
            return rdMolDraw2D.PrepareMolForDrawing(Chem.Mol(mol), kekulize=True)
        except Exception:  # noqa: BLE001 - odd aromatic systems: draw them aromatic
            return rdMolDraw2D.PrepareMolForDrawing(Chem.Mol(mol), kekulize=False)


def draw_molecule(
    mol: Chem.Mol | str | None, size: tuple[int, int] = (400, 300), legend: str | None = None
) -> np.ndarray:
    """RDKit 2D depiction of ``mol`` (a Mol or SMILES; ``None`` or no atoms gives a blank image) as an
    ``(H, W, 3)`` ``uint8`` array, ``size = (W, H)``. The input molecule is not modified."""
    width, height = int(size[0]), int(size[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive (width, height), got {size!r}")
    mol = _to_mol(mol)
    if mol.GetNumAtoms() == 0:
        return np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    Draw, rdMolDraw2D = _draw_modules()
    if rdMolDraw2D is not None:
        drawer = rdMolDraw2D.MolDraw2DCairo(width, height)
        drawer.drawOptions().clearBackground = True
        drawer.DrawMolecule(_prepared(mol), legend=legend or "")
        drawer.FinishDrawing()
        img = _png_to_array(drawer.GetDrawingText())
    else:  # pragma: no cover - only without Cairo
        img = _pil_to_array(Draw.MolToImage(Chem.Mol(mol), size=(width, height), legend=legend or ""))
    if img.shape[:2] != (height, width):  # pragma: no cover - defensive: some backends round sizes
        img = np.asarray(Image.fromarray(img).resize((width, height)), dtype=np.uint8)
    return img


def wrap_text(text: str, fits: Any, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines, each accepted by ``fits(line) -> bool`` (a width check).

    Breaks anywhere (SMILES have no spaces); when the text does not fit, the last line ends with ``...``.
    """
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines:
        n = len(rest)
        if not fits(rest):
            lo, hi = 1, len(rest)  # largest prefix that fits (at least one character)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if fits(rest[:mid]):
                    lo = mid
                else:
                    hi = mid - 1
            n = lo
        lines.append(rest[:n])
        rest = rest[n:]
    if rest and lines:
        last = lines[-1]
        while last and not fits(last + "..."):
            last = last[:-1]
        lines[-1] = last + "..."
    return lines


def _format_value(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        return f"{v:.3f}" if abs(v) < 1e4 else f"{v:.3g}"
    return str(value)


class MoleculeView:
    """A ``width x height`` frame: the 2D depiction on the left, a text panel on the right.

    ``info`` keys read by :meth:`frame` (all optional): ``smiles`` (else computed from ``mol``), ``step``,
    ``max_steps``, ``reward`` (the last reward), ``properties`` (dict name -> value; when absent, and
    ``compute_properties`` is true, :func:`envs.molecule.rewards.property_table` of ``mol``), ``title``,
    ``message``.
    """

    def __init__(
        self,
        width: int = 600,
        height: int = 450,
        panel_width: int = 220,
        fps: float | None = None,
        title: str = "Deep Arena - molecule",
        compute_properties: bool = True,
    ) -> None:
        if width <= panel_width + 50 or height < 200:
            raise ValueError(f"frame {width}x{height} is too small for a {panel_width}-px panel")
        self.width, self.height = int(width), int(height)
        self.panel_width = int(panel_width)
        self.fps = fps
        self.title = title
        self.compute_properties = compute_properties
        self._fonts: dict[tuple[int, bool], Any] = {}
        self._window: Any = None
        self._clock: Any = None

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    # -- pygame plumbing --------------------------------------------------------------------------------------
    @staticmethod
    def _pygame() -> Any:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame  # lazy: a display library; the env imports this module headless (module docstring)

        if not pygame.font.get_init():
            pygame.font.init()
        return pygame

    def _font(self, size: int, bold: bool = False) -> Any:
        key = (size, bold)
        if key not in self._fonts:
            pg = self._pygame()
            try:
                font = pg.font.SysFont("dejavusansmono,menlo,consolas,monospace", size, bold=bold)
            except Exception:  # noqa: BLE001 - no fontconfig / system fonts: pygame's bundled font
                font = pg.font.Font(None, size + 4)
            self._fonts[key] = font
        return self._fonts[key]

    # -- frames -----------------------------------------------------------------------------------------------
    def _panel_lines(self, mol: Chem.Mol, info: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(kind, text)`` lines for the panel; kind in {title, head, text, dim}."""
        lines: list[tuple[str, str]] = [("title", str(info.get("title", "Molecule")))]
        smiles = info.get("smiles")
        if smiles is None:
            smiles = Chem.MolToSmiles(mol) if mol.GetNumAtoms() else ""
        lines.append(("head", "SMILES"))
        lines.append(("smiles", str(smiles) or "(empty)"))
        step, max_steps = info.get("step"), info.get("max_steps")
        if step is not None:
            lines.append(("text", f"step {step}" + (f" / {max_steps}" if max_steps is not None else "")))
        if info.get("reward") is not None:
            lines.append(("text", f"reward {_format_value(info['reward'])}"))
        props = info.get("properties")
        if props is None and self.compute_properties and mol.GetNumAtoms():
            try:
                props = property_table(mol)
            except Exception:  # noqa: BLE001 - rendering never fails because of a property
                props = None
        if props:
            lines.append(("head", "properties"))
            for name, value in props.items():
                lines.append(("prop", f"{name}\t{_format_value(value)}"))
        if info.get("message"):
            lines.append(("message", str(info["message"])))
        return lines

    def _draw_panel(self, surface: Any, mol: Chem.Mol, info: Mapping[str, Any]) -> None:
        pg = self._pygame()
        left = self.width - self.panel_width
        pg.draw.rect(surface, PANEL_BG, (left, 0, self.panel_width, self.height))
        pad = 12
        x, y, inner = left + pad, pad, self.panel_width - 2 * pad
        bottom = self.height - pad
        for kind, text in self._panel_lines(mol, info):
            font = self._font(18 if kind == "title" else 14, bold=kind in ("title", "head"))
            colour = {"title": PANEL_ACCENT, "head": PANEL_DIM, "message": PANEL_ACCENT}.get(kind, PANEL_TEXT)
            line_h = font.get_linesize()
            if kind in ("smiles", "message"):
                room = max(1, min(6, (bottom - y) // line_h))
                chunks = wrap_text(text, lambda s, f=font: f.size(s)[0] <= inner, room)
            else:
                chunks = [text]
            if kind == "head":
                y += 4
            for chunk in chunks:
                if y + line_h > bottom:
                    return
                if kind == "prop":
                    name, value = chunk.split("\t", 1)
                    surface.blit(font.render(name, True, PANEL_DIM), (x, y))
                    img = font.render(value, True, colour)
                    surface.blit(img, (left + self.panel_width - pad - img.get_width(), y))
                else:
                    surface.blit(font.render(chunk, True, colour), (x, y))
                y += line_h
            if kind == "title":
                y += 4

    def surface(self, mol: Chem.Mol | str | None, info: Mapping[str, Any] | None = None) -> Any:
        """The frame as a pygame ``Surface`` (no display needed)."""
        pg = self._pygame()
        info = info or {}
        mol = _to_mol(mol)
        surface = pg.Surface((self.width, self.height))
        surface.fill(BACKGROUND)
        mol_w = self.width - self.panel_width
        picture = draw_molecule(mol, (mol_w, self.height))
        surface.blit(pg.image.frombuffer(picture.tobytes(), (mol_w, self.height), "RGB"), (0, 0))
        if mol.GetNumAtoms() == 0:
            font = self._font(16)
            img = font.render("(no atoms)", True, PANEL_DIM)
            surface.blit(img, ((mol_w - img.get_width()) // 2, (self.height - img.get_height()) // 2))
        self._draw_panel(surface, mol, info)
        return surface

    def frame(self, mol: Chem.Mol | str | None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        """The frame as ``(height, width, 3)`` ``uint8`` (for ``render_mode="rgb_array"``)."""
        pg = self._pygame()
        arr = pg.surfarray.array3d(self.surface(mol, info))  # (W, H, 3)
        return np.ascontiguousarray(arr.transpose(1, 0, 2), dtype=np.uint8)

    # -- window -----------------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._window is not None

    def open(self, size: tuple[int, int] | None = None) -> None:
        """Open the pygame window (``size = (W, H)``, default :attr:`size`), or resize the open one.

        Call it before the first frame is drawn: an X11 window opened after RDKit's Cairo drawing can crash
        (see the module docstring). :meth:`render` does; :meth:`show` opens the window itself if needed.
        """
        w, h = self.size if size is None else (int(size[0]), int(size[1]))
        if self._window is not None and self._window.get_size() == (w, h):
            return
        pg = self._pygame()
        pg.display.init()
        pg.display.set_caption(self.title)
        self._window = pg.display.set_mode((w, h))
        self._clock = pg.time.Clock()

    def show(self, frame: np.ndarray) -> bool:
        """Show an ``(H, W, 3)`` frame in a pygame window (opened on first call, resized to the frame).

        Processes window events; returns ``False`` (and closes the window) once the user closed it, else
        ``True``. Waits to keep ``fps`` when it was given.
        """
        pg = self._pygame()
        frame = np.asarray(frame, dtype=np.uint8)
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frame must be (H, W, 3), got shape {frame.shape}")
        h, w = frame.shape[:2]
        self.open((w, h))
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.close()
                return False
        self._window.blit(pg.surfarray.make_surface(frame.transpose(1, 0, 2)), (0, 0))
        pg.display.flip()
        if self.fps and self._clock is not None:
            self._clock.tick(self.fps)
        return True

    def render(self, mol: Chem.Mol | str | None, info: Mapping[str, Any] | None = None) -> np.ndarray:
        """Draw a frame, show it in the window, and return it. The window is opened before the first drawing."""
        self.open()
        img = self.frame(mol, info)
        self.show(img)
        return img

    def close(self) -> None:
        """Close the window (if one is open); frames can still be drawn afterwards."""
        if self._window is not None:
            self._pygame().display.quit()
            self._window = None
            self._clock = None

    def __enter__(self) -> "MoleculeView":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- grids ---------------------------------------------------------------------------------------------------
def molecule_grid(
    mols_or_smiles: Sequence[Chem.Mol | str],
    legends: Sequence[str] | None = None,
    mols_per_row: int = 4,
    sub_img_size: tuple[int, int] = (250, 200),
) -> np.ndarray:
    """A grid image of molecules (RDKit ``MolsToGridImage``) as ``(H, W, 3)`` ``uint8``.

    ``H = rows * sub_img_size[1]``, ``W = min(len, mols_per_row) * sub_img_size[0]``. Invalid SMILES raise
    ``ValueError`` with their index; an empty list too.
    """
    mols = [_to_mol(m, f"molecule_grid item {i}") for i, m in enumerate(mols_or_smiles)]
    if not mols:
        raise ValueError("molecule_grid: no molecules to draw")
    if legends is not None:
        legends = [str(x) for x in legends]
        if len(legends) != len(mols):
            raise ValueError(f"molecule_grid: {len(legends)} legends for {len(mols)} molecules")
    if mols_per_row < 1:
        raise ValueError(f"mols_per_row must be >= 1, got {mols_per_row}")
    per_row = min(int(mols_per_row), len(mols))
    Draw = _draw_modules()[0]
    with rdBase.BlockLogs():
        img = Draw.MolsToGridImage(
            [Chem.Mol(m) for m in mols],
            molsPerRow=per_row,
            subImgSize=tuple(int(v) for v in sub_img_size),
            legends=legends,
        )
    if isinstance(img, (bytes, bytearray)):  # PNG bytes (e.g. RDKit's IPython integration active)
        return _png_to_array(bytes(img))
    if hasattr(img, "data") and isinstance(getattr(img, "data"), (bytes, bytearray)):  # IPython Image
        return _png_to_array(bytes(img.data))
    return _pil_to_array(img)


def save_grid_png(
    path: str | os.PathLike[str],
    mols_or_smiles: Sequence[Chem.Mol | str],
    legends: Sequence[str] | None = None,
    mols_per_row: int = 4,
    sub_img_size: tuple[int, int] = (250, 200),
) -> Path:
    """Write :func:`molecule_grid` to a PNG file (parent folders created); returns the path."""
    grid = molecule_grid(mols_or_smiles, legends, mols_per_row, sub_img_size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path, format="PNG")
    return path
