"""Go in a window: play against random / GNU Go / a trained agent, or watch an agent play (``arena-play go``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deep_arena.agents.go.human import HumanGoSession, NoDisplayError as GoNoDisplayError, SessionWindow, random_agent
from deep_arena.agents.go.players import load_player
from deep_arena.envs.go.coords import action_to_gtp, gtp_to_action
from deep_arena.envs.go.game import MAX_SIZE, MIN_SIZE
from deep_arena.envs.go.gtp_client import GTPError
from deep_arena.envs.go.render import _pygame
from deep_arena.runtime.argtypes import finite_float, int_in_range, positive_int, seconds
from deep_arena.runtime.display import FrameSaver, NoDisplayError, add_save_frames, display_problem, no_window

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


def play_parser() -> argparse.ArgumentParser:
    go = argparse.ArgumentParser(
        prog="arena-play go",
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
    add_save_frames(go, record_fps=2.0)
    # Test-only: quit after this many idle seconds (no event, no move), and events to inject, such as
    # "E5,p,u,s,esc" (a vertex clicks there; p/r/u/s/esc press that key).
    go.add_argument("--auto-quit-after", type=seconds, default=None, help=argparse.SUPPRESS)
    go.add_argument("--test-events", default=None, help=argparse.SUPPRESS)
    go.set_defaults(run=run_go, parser=go)
    return go


# ---------------------------------------------------------------------------------------------------------------
# go


class FrameSavingWindow(SessionWindow):
    """The session's window, saving each frame it shows (``--save-frames``, ``--record``)."""

    def __init__(self, *args, frames: FrameSaver, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.frames = frames

    def show(self, game, message=None, show_score=True):
        super().show(game, message=message, show_score=show_score)
        self.frames.save()


def scripted_events(text: str, renderer) -> list:
    """pygame events for ``--test-events``: a GTP vertex clicks there; p, r, u, s, esc press that key."""
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
    frames = FrameSaver(args.save_frames, parser, args.record, args.record_fps)
    agent = random_agent(None if args.seed is None else args.seed + 1) if args.watch else None
    agent_name = "random agent"
    opponent: object = args.opponent
    search_info = None
    if args.model is not None:
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
        print(f"arena-play go: error: {err}", file=sys.stderr)
        return 1
    window = None
    if frames.active:
        window = FrameSavingWindow(session.renderer, title=session._title(), frames=frames)
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
        frames.close()
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


def play(argv: Sequence[str] | None = None) -> int:
    """``arena-play go ...``"""
    args = play_parser().parse_args(argv)
    return args.run(args)
