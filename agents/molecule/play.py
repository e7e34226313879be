"""Watch a trained molecule-design agent build molecules, one edit per frame (``arena-play molecule``)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from deep_arena.agents.molecule.players import load_molecule_agent
from deep_arena.runtime import CheckpointError
from deep_arena.runtime.argtypes import positive_float, positive_int
from deep_arena.runtime.display import (FrameSaver, NoDisplayError, add_save_frames, display_problem, no_window,
                                        open_window)

MOLECULE_OBJECTIVES = ("qed", "plogp", "plogp_zinc", "logp", "sa", "sim_plogp")
PRETRAINED_MOLECULE = "molecule-qed"


def play_parser() -> argparse.ArgumentParser:
    mol = argparse.ArgumentParser(
        prog="arena-play molecule",
        description=("Watch a MolDQN (model.pt) or MaskablePPO (.zip) agent edit a molecule, one valid edit per "
                     "frame; each episode's final SMILES and score are printed. Close the window to stop."),
    )
    mol.add_argument("--model", required=True, metavar="PATH|pretrained",
                     help="model.pt (MolDQN), a .zip (MaskablePPO), a run directory holding one of them, or "
                          f"'pretrained' (the shipped {PRETRAINED_MOLECULE} policy)")
    mol.add_argument("--objective", choices=MOLECULE_OBJECTIVES, default=None,
                     help="property shown as the score (default: the one the model was trained on)")
    mol.add_argument("--start-smiles", default=None, metavar="SMILES",
                     help="start molecule (default: the model's training start, usually a single carbon)")
    mol.add_argument("--episodes", type=positive_int, default=1, metavar="N", help="episodes to play (default 1)")
    mol.add_argument("--fps", type=positive_float, default=2.0, metavar="F", help="edits per second (default 2)")
    mol.add_argument("--headless-frames", type=Path, default=None, metavar="DIR",
                     help="write every frame as a PNG into DIR instead of opening a window")
    add_save_frames(mol, record_fps=2.0)
    mol.add_argument("--seed", type=int, default=0, help="reset seed of the first episode (default 0)")
    mol.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    mol.set_defaults(run=run_molecule, parser=mol)
    return mol


def _wait(seconds_: float, window: bool) -> bool:
    """Sleep ``seconds_`` while keeping the window responsive; False once the user closed it."""
    import pygame  # lazy: a display library, only when a window opens (the registry imports this module for --help)

    end = time.perf_counter() + seconds_
    while True:
        if window:
            if not pygame.display.get_init():  # the env's view closed the window on a QUIT event
                return False
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                    return False
        left = end - time.perf_counter()
        if left <= 0:
            return True
        time.sleep(min(left, 0.02))


MOLECULE_HINT = "Use --headless-frames DIR to write the frames as PNGs instead."


def run_molecule(args: argparse.Namespace) -> int:
    # lazy (these three): the task registry imports this module to build --help, which must stay fast
    import pygame  # lazy: a display library (its surfaces also draw the --headless-frames PNGs)
    from PIL import Image  # lazy: Pillow, for --headless-frames
    from deep_arena.envs.molecule.render import MoleculeView  # lazy: RDKit (its drawing modules load later still)

    parser: argparse.ArgumentParser = args.parser
    headless = args.headless_frames is not None
    if headless and args.save_frames is not None:
        parser.error("--save-frames saves the window's frames; --headless-frames writes them without a window")
    if not headless:
        problem = display_problem()  # before loading the model
        if problem is not None:
            return no_window("molecule", problem, MOLECULE_HINT, detail=True)
    try:
        policy, act = load_molecule_agent(args.model, device=args.device)
    except (ValueError, CheckpointError, OSError) as err:
        parser.error(f"--model {args.model}: {err}")
    if headless:
        try:
            args.headless_frames.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            parser.error(f"--headless-frames {args.headless_frames}: {err}")
    saver = FrameSaver(args.save_frames, parser, args.record, args.record_fps)
    if not headless:
        # The window first: under X11, RDKit's Cairo drawing before SDL's first window crashes set_mode
        # (envs/molecule/render.py explains why). The env's view then draws into this window.
        view = MoleculeView()
        try:
            open_window(view.size, view.title, MOLECULE_HINT)
        except NoDisplayError as err:
            return no_window("molecule", err)
    env_kwargs = {"render_mode": "rgb_array" if headless else "human"}
    if args.start_smiles is not None:
        env_kwargs["start_smiles"] = args.start_smiles
    try:
        env = policy.make_env(objective=args.objective, **env_kwargs)
    except ValueError as err:  # a bad start SMILES, or an objective that needs arguments
        if not headless:
            pygame.display.quit()
        parser.error(str(err))
    objective = args.objective or getattr(policy, "objective", "score")
    pause = 1.0 / args.fps
    frames = 0

    def save_frame(episode: int, step: int) -> None:
        nonlocal frames
        frame = env.render()
        Image.fromarray(frame).save(args.headless_frames / f"episode{episode:03d}_step{step:03d}.png")
        saver.add(frame)
        frames += 1

    def show(episode: int, step: int) -> bool:
        """Write the frame (headless) or keep it on screen for one pause; False once the window was closed."""
        if headless:
            save_frame(episode, step)
            return True
        saver.save()
        return _wait(pause, window=True)

    try:
        for episode in range(args.episodes):
            obs, info = env.reset(seed=args.seed + episode)
            step, done = 0, False
            if not show(episode, step):
                break
            while not done:
                obs, _, terminated, truncated, info = env.step(act(env, obs))
                done = terminated or truncated
                step += 1
                if not show(episode, step):
                    break
            if not done:  # window closed mid-episode
                break
            print(f"episode {episode + 1}: {info['smiles']}  {objective} {info['score']:.4f}  ({step} edits)")
            if not headless and not _wait(2 * pause, window=True):  # linger on the final molecule
                break
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the window went away (pygame.error): say so in one line
        if headless or not isinstance(err, pygame.error):
            raise
        return no_window("molecule", err, MOLECULE_HINT, detail=True)
    finally:
        env.close()
        saver.close()
    if headless:
        print(f"wrote {frames} frames to {args.headless_frames}")
    saver.report()
    return 0


# ---------------------------------------------------------------------------------------------------------------
# arm


def play(argv: Sequence[str] | None = None) -> int:
    """``arena-play molecule ...``"""
    args = play_parser().parse_args(argv)
    return args.run(args)
