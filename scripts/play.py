"""Play against, or watch, Deep Arena environments in a window.

Examples (from the repository root)::

    .venv/bin/python scripts/play.py go --human                                  # you (Black) vs random, 9x9
    .venv/bin/python scripts/play.py go --human --opponent gnugo:5 --color white --sgf runs/go/mygame.sgf
    .venv/bin/python scripts/play.py go --watch --opponent gnugo:5              # a random agent vs GNU Go
    .venv/bin/python scripts/play.py go --human --model pretrained --board-size 7 --show-search
    .venv/bin/python scripts/play.py go --watch --model pretrained --board-size 9 --opponent gnugo:5

Go controls: click an intersection to play, P pass, R resign, U undo (your move and the reply), S save an SGF
record (runs/go/human-<timestamp>.sgf unless --sgf is given; files are never overwritten), Esc or closing the
window quits. The panel shows the Tromp-Taylor score and, at the end, the result.

Molecule design: watch a trained agent build molecules one edit at a time::

    .venv/bin/python scripts/play.py molecule --model runs/molecule/moldqn-<time>/model.pt
    .venv/bin/python scripts/play.py molecule --model runs/molecule/maskable_ppo-<time>/final_model.zip --episodes 3
    .venv/bin/python scripts/play.py molecule --model pretrained --start-smiles c1ccccc1 --fps 2
    .venv/bin/python scripts/play.py molecule --model MODEL --headless-frames frames/   # PNG frames, no window

Robot arm: watch a trained policy (scripts/train_arm.py) in a pygame window showing MuJoCo's 3-D view::

    .venv/bin/python scripts/play.py arm --task reach --model pretrained --episodes 5
    .venv/bin/python scripts/play.py arm --task push --model runs/arm/tqc-<time>/final_model.zip

Each environment is a subcommand (`go`, `molecule`, `arm`). Each opens a window, or exits with status 1 and a
one-line reason (no display, for instance); `--save-frames DIR` also writes every frame the window shows as a PNG.
A crash in native code (SDL, Cairo, OpenGL) prints a Python traceback (faulthandler) instead of hanging.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
from pathlib import Path

import numpy as np

# Let `python scripts/play.py` work from a checkout even without the editable install.

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from deep_arena.runtime.argtypes import finite_float, int_in_range, positive_float, positive_int, seconds  # noqa: E402
from deep_arena.envs.go.game import MAX_SIZE, MIN_SIZE  # noqa: E402
from deep_arena.runtime.display import NoDisplayError, display_problem, no_display_message  # noqa: E402



# ---------------------------------------------------------------------------------------------------------------
# Argument types: each raises ArgumentTypeError so that argparse prints "argument --x: ..." and exits with 2.


board_size = int_in_range(MIN_SIZE, MAX_SIZE)
komi = finite_float


def opponent_spec(text: str) -> str:
    """``random``, ``gnugo`` (level 10) or ``gnugo:LEVEL`` with LEVEL 0..10."""
    if text == "random":
        return text
    name, sep, level = text.partition(":")
    if name == "gnugo" and (not sep or (level.isdigit() and 0 <= int(level) <= 10)):
        return text
    if name == "gnugo":
        raise argparse.ArgumentTypeError(f"GNU Go level must be an integer from 0 to 10 (e.g. gnugo:5), got {text!r}")
    raise argparse.ArgumentTypeError(f"use 'random' or 'gnugo:LEVEL' (LEVEL 0..10), got {text!r}")


def add_save_frames(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--save-frames", type=Path, default=None, metavar="DIR",
                        help="also write every frame the window shows as DIR/frameNNNNN.png")


# ---------------------------------------------------------------------------------------------------------------
# Windows: checked before anything slow, opened before any drawing, frames saved from the window itself.


def no_window(mode: str, detail_or_error: object, hint: str | None = None, *, detail: bool = False) -> int:
    """Print ``play.py MODE: error: ...`` (one line) and return the exit status 1."""
    text = no_display_message(str(detail_or_error), hint) if detail else str(detail_or_error)
    print(f"play.py {mode}: error: {' '.join(text.split())}", file=sys.stderr)
    return 1


class FrameSaver:
    """Writes the window's surface to ``DIR/frame00000.png``, ``frame00001.png``, ... (nothing without a DIR)."""

    def __init__(self, folder: Path | None, parser: argparse.ArgumentParser):
        self.folder, self.count = folder, 0
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                parser.error(f"--save-frames {folder}: {err}")

    def save(self) -> None:
        if self.folder is not None:
            from deep_arena.runtime.display import save_window_frame

            if save_window_frame(self.folder / f"frame{self.count:05d}.png") is not None:
                self.count += 1

    def report(self) -> None:
        if self.folder is not None:
            print(f"wrote {self.count} frames to {self.folder}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="play.py",
        description="Play against, or watch, Deep Arena environments in a pygame window.",
        epilog="Run `play.py ENV --help` for the options of one environment.",
    )
    envs = parser.add_subparsers(dest="env", metavar="ENV", required=True)
    add_go_parser(envs)
    add_molecule_parser(envs)
    add_arm_parser(envs)
    return parser


def add_go_parser(envs: argparse._SubParsersAction) -> argparse.ArgumentParser:
    go = envs.add_parser(
        "go",
        help="Go: play against random / GNU Go, or watch an agent",
        description=("Go under CGOS rules (Tromp-Taylor area scoring, positional superko). Controls: click to play, "
                     "P pass, R resign, U undo, S save SGF, Esc quit."),
    )
    mode = go.add_mutually_exclusive_group(required=True)
    mode.add_argument("--human", action="store_true", help="play yourself against the opponent")
    mode.add_argument("--watch", action="store_true", help="watch an agent (--model, else a random one) play the opponent")
    go.add_argument("--board-size", type=board_size, default=9, help=f"{MIN_SIZE}..{MAX_SIZE} (default 9)")
    go.add_argument("--komi", type=komi, default=7.5, help="points given to White (default 7.5)")
    go.add_argument("--color", "--colour", dest="color", choices=("black", "white"), default="black",
                    help="the colour you (or the watched agent) play (default black; Black moves first)")
    go.add_argument("--opponent", type=opponent_spec, default="random",
                    help="'random' or 'gnugo:LEVEL' with LEVEL 0..10 (default random)")
    go.add_argument("--sgf", type=Path, default=None, metavar="PATH",
                    help="save the game here when it ends (S saves here too; an existing file is never "
                         "overwritten: -1, -2, ... is added). Default for S: runs/go/human-<timestamp>.sgf")
    go.add_argument("--seed", type=int, default=None, help="seed for the random opponent / agent and GNU Go")
    go.add_argument("--max-moves", type=positive_int, default=None, metavar="N",
                    help="end the game after N moves, passes included (default 2 * size^2)")
    go.add_argument("--delay", type=seconds, default=0.5, metavar="SECONDS",
                    help="--watch: seconds between moves (default 0.5)")
    go.add_argument("--model", default=None, metavar="PATH|pretrained",
                    help="a trained agent (.pt AlphaZero, .zip MaskablePPO, or 'pretrained'): with --human you play "
                         "against it, with --watch it plays the --opponent")
    go.add_argument("--sims", type=positive_int, default=None, help="AlphaZero playouts per move (default: the model's)")
    go.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    go.add_argument("--show-search", action="store_true",
                    help="show the agent's value estimate and most visited moves after each of its moves")
    add_save_frames(go)
    # Test-only: quit after this many idle seconds (no event, no move), and events to inject, such as
    # "E5,p,u,s,esc" (a vertex clicks there; p/r/u/s/esc press that key).
    go.add_argument("--auto-quit-after", type=seconds, default=None, help=argparse.SUPPRESS)
    go.add_argument("--test-events", default=None, help=argparse.SUPPRESS)
    go.set_defaults(run=run_go, parser=go)
    return go


# ---------------------------------------------------------------------------------------------------------------
# go


def scripted_events(text: str, renderer) -> list:
    """pygame events for ``--test-events``: a GTP vertex clicks there; p, r, u, s, esc press that key."""
    from deep_arena.envs.go.coords import gtp_to_action
    from deep_arena.envs.go.render import _pygame

    pg = _pygame()
    keys = {"p": pg.K_p, "r": pg.K_r, "u": pg.K_u, "s": pg.K_s, "esc": pg.K_ESCAPE}
    events = []
    for token in filter(None, (t.strip().lower() for t in text.split(","))):
        if token in keys:
            events.append(pg.event.Event(pg.KEYDOWN, key=keys[token], mod=0, unicode="", scancode=0))
        elif token == "quit":
            events.append(pg.event.Event(pg.QUIT))
        else:
            action = gtp_to_action(token, renderer.board_size)
            if action == renderer.board_size**2:
                events.append(pg.event.Event(pg.KEYDOWN, key=pg.K_p, mod=0, unicode="p", scancode=0))
                continue
            pos = renderer.action_to_pixel(action)
            events.append(pg.event.Event(pg.MOUSEBUTTONDOWN, pos=pos, button=1))
            events.append(pg.event.Event(pg.MOUSEBUTTONUP, pos=pos, button=1))
    return events


def describe_search(player, board_size: int) -> str | None:
    """"Value +0.32 | D4 41%, C3 22%, E5 9%" for an AlphaZero player's last search (None for other players)."""
    from deep_arena.envs.go.coords import action_to_gtp

    visits = getattr(player, "last_visits", None)
    if visits is None or visits.sum() <= 0:
        return None
    top = np.argsort(-visits)[:3]
    share = visits / visits.sum()
    moves = ", ".join(f"{action_to_gtp(int(a), board_size)} {share[a]:.0%}" for a in top if visits[a] > 0)
    return f"{player.name}: value {player.last_value:+.2f} | {moves}"


def run_go(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.test_events is not None and args.watch:
        parser.error("--test-events is for --human")
    problem = display_problem()  # before loading a model or starting GNU Go
    if problem is not None:
        return no_window("go", problem, detail=True)
    frames = FrameSaver(args.save_frames, parser)

    from deep_arena.envs.go.gtp import GTPError
    from deep_arena.envs.go.human import HumanGoSession, NoDisplayError as GoNoDisplayError, SessionWindow, random_agent

    agent = random_agent(None if args.seed is None else args.seed + 1) if args.watch else None
    agent_name = "random agent"
    opponent: object = args.opponent
    search_info = None
    if args.model is not None:
        from deep_arena.agents.go.players import load_player

        try:
            model = load_player(args.model, args.board_size, args.komi, device=args.device, sims=args.sims,
                                models_only=True)
        except (ValueError, OSError, RuntimeError, ImportError) as err:
            parser.error(f"--model {args.model}: {err}")
        if args.show_search:
            search_info = lambda: describe_search(model, args.board_size)  # noqa: E731
        if args.watch:
            model_rng = np.random.default_rng(args.seed)
            model.reset(None, args.seed)
            agent = lambda game: model.act(game, model_rng)  # noqa: E731
            agent_name = getattr(model, "name", args.model)
        else:
            opponent = model
    try:
        session = HumanGoSession(
            board_size=args.board_size, komi=args.komi, human_color=args.color, opponent=opponent,
            sgf_path=args.sgf, seed=args.seed, max_moves=args.max_moves, agent=agent, agent_delay=args.delay,
            agent_name=agent_name, search_info=search_info,
        )
    except (OSError, GTPError) as err:  # GNU Go missing or failing to start
        print(f"play.py go: error: {err}", file=sys.stderr)
        return 1
    window = None
    if args.save_frames is not None:
        class FrameSavingWindow(SessionWindow):
            def show(self, game, message=None, show_score=True):
                super().show(game, message=message, show_score=show_score)
                frames.save()

        window = FrameSavingWindow(session.renderer, title=session._title())
    try:
        events = scripted_events(args.test_events, session.renderer) if args.test_events else None
        session.run(window, auto_quit_after=args.auto_quit_after, events=events)
    except (GoNoDisplayError, NoDisplayError) as err:
        return no_window("go", err)
    except KeyboardInterrupt:
        session.quit()
        return 130
    finally:
        session.close()
    n = args.board_size
    print(f"Go {n}x{n}, komi {args.komi:g}: {session.describe(1)} vs {session.describe(-1)}, "
          f"{len(session.game.history)} moves, result {session.result}")
    if session.is_over and session.message:
        print(session.message.splitlines()[0])
    for path in session.saved_paths:
        print(f"saved {path}")
    frames.report()
    return 0


# ---------------------------------------------------------------------------------------------------------------
# molecule

MOLECULE_OBJECTIVES = ("qed", "plogp", "plogp_zinc", "logp", "sa", "sim_plogp")
PRETRAINED_MOLECULE = "molecule-qed"


def add_molecule_parser(envs: argparse._SubParsersAction) -> argparse.ArgumentParser:
    mol = envs.add_parser(
        "molecule",
        help="molecule design: watch a trained agent build molecules step by step",
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
    add_save_frames(mol)
    mol.add_argument("--seed", type=int, default=0, help="reset seed of the first episode (default 0)")
    mol.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    mol.set_defaults(run=run_molecule, parser=mol)
    return mol


def _wait(seconds_: float, window: bool) -> bool:
    """Sleep ``seconds_`` while keeping the window responsive; False once the user closed it."""
    import time

    end = time.perf_counter() + seconds_
    while True:
        if window:
            import pygame

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
ARM_HINT = "Evaluate headless with scripts/evaluate.py arm."


def run_molecule(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    headless = args.headless_frames is not None
    if headless and args.save_frames is not None:
        parser.error("--save-frames saves the window's frames; --headless-frames writes them without a window")
    if not headless:
        problem = display_problem()  # before loading the model
        if problem is not None:
            return no_window("molecule", problem, MOLECULE_HINT, detail=True)
    from deep_arena.runtime import CheckpointError

    try:
        from deep_arena.agents.molecule.players import load_molecule_agent

        policy, act = load_molecule_agent(args.model, device=args.device)
    except (ValueError, CheckpointError, OSError) as err:
        parser.error(f"--model {args.model}: {err}")
    if headless:
        try:
            args.headless_frames.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            parser.error(f"--headless-frames {args.headless_frames}: {err}")
    saver = FrameSaver(args.save_frames, parser)
    if not headless:
        # The window first: under X11, RDKit's Cairo drawing before SDL's first window crashes set_mode
        # (envs/molecule/render.py explains why). The env's view then draws into this window.
        from deep_arena.envs.molecule.render import MoleculeView
        from deep_arena.runtime.display import open_window

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
            import pygame

            pygame.display.quit()
        parser.error(str(err))
    objective = args.objective or getattr(policy, "objective", "score")
    pause = 1.0 / args.fps
    frames = 0

    def save_frame(episode: int, step: int) -> None:
        nonlocal frames
        from PIL import Image

        Image.fromarray(env.render()).save(args.headless_frames / f"episode{episode:03d}_step{step:03d}.png")
        frames += 1

    try:
        for episode in range(args.episodes):
            obs, info = env.reset(seed=args.seed + episode)
            step, done = 0, False
            if headless:
                save_frame(episode, step)
            else:
                saver.save()
                if not _wait(pause, window=True):
                    break
            while not done:
                obs, _, terminated, truncated, info = env.step(act(env, obs))
                done = terminated or truncated
                step += 1
                if headless:
                    save_frame(episode, step)
                else:
                    saver.save()
                    if not _wait(pause, window=True):
                        break
            if not done:  # window closed mid-episode
                break
            print(f"episode {episode + 1}: {info['smiles']}  {objective} {info['score']:.4f}  ({step} edits)")
            if not headless and not _wait(2 * pause, window=True):  # linger on the final molecule
                break
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the window went away (pygame.error): say so in one line
        import pygame

        if headless or not isinstance(err, pygame.error):
            raise
        return no_window("molecule", err, MOLECULE_HINT, detail=True)
    finally:
        env.close()
    if headless:
        print(f"wrote {frames} frames to {args.headless_frames}")
    saver.report()
    return 0


# ---------------------------------------------------------------------------------------------------------------
# arm


def add_arm_parser(envs: argparse._SubParsersAction) -> argparse.ArgumentParser:
    arm = envs.add_parser(
        "arm",
        help="robot arm: watch a trained policy reach, push or pick and place",
        description=("Watch a robot-arm policy (SAC, TD3, TQC or PPO .zip from scripts/train_arm.py, or the shipped "
                     "one) in a pygame window at 25 steps/s; each episode's success and final distance are "
                     "printed. Close the window to stop."),
    )
    arm.add_argument("--task", choices=("reach", "push", "pick_and_place"), required=True)
    arm.add_argument("--model", required=True, metavar="PATH|pretrained",
                     help="final_model.zip or a checkpoint model_*.zip, or 'pretrained' (the shipped arm-<task>)")
    arm.add_argument("--episodes", type=positive_int, default=3, metavar="N", help="episodes to play (default 3)")
    arm.add_argument("--seed", type=int, default=0, help="episode i resets with seed SEED + i (default 0)")
    arm.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")
    arm.add_argument("--size", type=int_in_range(64, 2048), default=480, metavar="PIXELS",
                     help="window width and height (default 480)")
    arm.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    add_save_frames(arm)
    arm.set_defaults(run=run_arm, parser=arm)
    return arm


def run_arm(args: argparse.Namespace) -> int:
    problem = display_problem()  # before loading the model
    if problem is not None:
        return no_window("arm", problem, ARM_HINT, detail=True)
    # Before mujoco is imported and before any window exists: MuJoCo renders off screen through EGL (with or
    # without a display), pygame shows the frames in a window with a software framebuffer (SDL's GLX one
    # collides with the EGL context: X Error BadAccess, X_GLXMakeCurrent).
    os.environ.setdefault("MUJOCO_GL", "egl")
    from deep_arena.runtime.display import open_window, software_framebuffer

    software_framebuffer()
    from deep_arena.agents.arm import sb3_trainer as arm

    parser: argparse.ArgumentParser = args.parser
    try:
        path, env_config = arm.resolve_model(args.model, args.task)
        env = arm.make_env(env_config, render_mode="human", width=args.size, height=args.size)
    except ValueError as err:
        parser.error(str(err))
    try:
        model = arm.load_model(path, device=args.device, env=env)
    except ValueError as err:
        env.close()
        parser.error(str(err))
    import pygame

    saver = FrameSaver(args.save_frames, parser)
    try:
        open_window((args.size, args.size), "Deep Arena: robot arm", ARM_HINT)
    except NoDisplayError as err:
        env.close()
        return no_window("arm", err)
    successes = 0
    try:
        for episode in range(args.episodes):
            obs, info = env.reset(seed=args.seed + episode)
            done = False
            while not done:
                action, _ = model.predict(obs, deterministic=not args.stochastic)
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
                if not pygame.display.get_init():  # the env's view closed its window on a QUIT event
                    break
                saver.save()
            if not done:
                break
            successes += bool(info["is_success"])
            print(f"episode {episode + 1}: {'success' if info['is_success'] else 'failure'}, final distance "
                  f"{100 * info['distance']:.1f} cm")
        else:
            print(f"{successes}/{args.episodes} successes")
    except KeyboardInterrupt:
        return 130
    except pygame.error as err:  # the window went away: say so in one line
        return no_window("arm", err, ARM_HINT, detail=True)
    finally:
        env.close()
    saver.report()
    return 0


def enable_faulthandler() -> None:
    """A crash in native code (SDL, Cairo, OpenGL) prints the Python stack and ends the process, instead of
    leaving it hung in a futex that ignores SIGTERM."""
    if faulthandler.is_enabled():
        return
    try:
        faulthandler.enable()
    except (AttributeError, OSError, ValueError):  # stderr without a file descriptor (captured, pythonw)
        pass


def main(argv: list[str] | None = None) -> int:
    enable_faulthandler()
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
