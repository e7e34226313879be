"""Train a Go agent and log to runs/go/<algo>-<time>/ (watch with `tensorboard --logdir runs`).

    python scripts/train_go.py --board-size 7 --algo alphazero --minutes 30 [--device auto] [--seed 0]
    python scripts/train_go.py --board-size 7 --algo maskable_ppo --steps 200000
    python scripts/train_go.py --resume runs/go/alphazero-20261125-120000 [--minutes 60 (more)]
    python scripts/train_go.py --resume runs/go/maskable_ppo-20261125-120000 [--steps 100000 (more)]
    python scripts/train_go.py --board-size 9 --algo alphazero --minutes 60 --init-from runs/go/.../model.pt
    python scripts/train_go.py --board-size 9 --algo alphazero --minutes 60 --actors 2   # Ray self-play actors
    python scripts/train_go.py --board-size 7 --komi 9.5 --algo alphazero --minutes 60 \
        --set expert.games=1600 --set expert.train_steps=3000 --set replay_capacity=80000

alphazero's expert.* settings start it from GNU Go's games (supervised, AlphaGo's first stage) before self-play;
they need GNU Go (apt-get install gnugo).

--steps counts environment steps for maskable_ppo and self-play/training iterations for alphazero.
Any config value can be set with --config FILE.yml or --set key=value (e.g. --set net.blocks=6).

Ctrl-C (or SIGTERM) stops at the next safe point (an iteration's end, an env step): a checkpoint and the model are
saved, the command that continues the run is printed, and the exit status is 130. --resume with no budget flag
finishes the run's saved plan; with --steps N or --minutes M it trains that much more (a saved budget whose flag is
not given is dropped: --steps 2 alone trains two more iterations, whatever the saved minutes). --minutes counts the
run's training time across resumes. An AlphaZero run keeps its newest 3 checkpoints when it ends.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


from deep_arena.agents.go.match import play_match, plot_match_results, safe_name
from deep_arena.agents.go.players import load_player
from deep_arena.agents.go.video import record_final_game
from deep_arena.envs.go.game import MAX_SIZE, MIN_SIZE
from deep_arena.runtime import CheckpointError, RunDir, add_common_args, build_config, resolve_device
from deep_arena.runtime.argtypes import device, finite_float, int_in_range, minutes, positive_int
from deep_arena.runtime.checkpoint import folder_size_text, prune_checkpoints
from deep_arena.runtime.cli import RESUME_RULE, add_output_args, evaluation_dir, resume_budget, resume_run, seed_arg
from deep_arena.runtime.interrupts import report_interrupted
from deep_arena.runtime.tb import log_result_hparams


def train(argv: Sequence[str] | None = None) -> int:
    """``arena-train go ...``"""
    parser = argparse.ArgumentParser(prog="arena-train go", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["alphazero", "maskable_ppo"], default=None)
    parser.add_argument("--board-size", type=int_in_range(5, 19), default=None, help="5 to 19 (default 7)")
    parser.add_argument("--komi", type=finite_float, default=None)
    parser.add_argument("--minutes", type=minutes, default=None,
                        help=f"wall-clock budget (for maskable_ppo: a limit on top of --steps); {RESUME_RULE}")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help=f"env steps (maskable_ppo) or iterations (alphazero); {RESUME_RULE}")
    parser.add_argument("--opponent", default=None,
                        help="maskable_ppo: selfplay (default: a pool of earlier policy snapshots), random or "
                             "gnugo:LEVEL")
    parser.add_argument("--resume", type=Path, default=None,
                        help="continue a run directory (alphazero or maskable_ppo) from its last checkpoint")
    parser.add_argument("--init-from", type=Path, default=None, help="alphazero: start from this model's weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--video", action="store_true",
                        help="at the end, one game of the final model vs random as RUN_DIR/videos/final_<step>.mp4 "
                             "and TensorBoard's eval/video")
    parser.add_argument("--actors", type=int_in_range(0, 4096), default=None,
                        help="alphazero: self-play in N Ray actor processes feeding the learner (selfplay.actors; "
                             "needs pip install -e '.[scale]'); default 0, self-play in this process")
    parser.add_argument("--ray-address", default=None,
                        help="alphazero --actors: join this Ray cluster (selfplay.ray_address); default a local Ray")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="alphazero: processes playing the expert start's GNU Go games (expert.workers); "
                             "default min(cores, games)")
    add_common_args(parser)
    args = parser.parse_args(argv)

    if args.resume is not None:
        return resume(args, parser)
    algo = args.algo or "alphazero"
    if algo == "maskable_ppo":
        from deep_arena.agents.go import ppo as go_ppo  # lazy: SB3 only when MaskablePPO trains

        if args.init_from is not None:
            parser.error("--init-from applies to --algo alphazero")
        for flag, value in (("--actors", args.actors), ("--ray-address", args.ray_address),
                            ("--workers", args.workers)):
            if value is not None:
                parser.error(f"{flag} applies to --algo alphazero")
        try:
            config = build_config(args, go_ppo.default_config(),
                                  cli_keys={"board_size": "board_size", "komi": "komi", "total_steps": "steps",
                                            "opponent": "opponent", "minutes": "minutes"})
            go_ppo.validate_config(config)
            resolve_device(config["device"])
        except ValueError as err:  # unknown --set key, bad setting or --config file, no CUDA...
            parser.error(str(err))
        run_dir = _new_run(args, algo, config)
        return _finish_ppo(go_ppo.GoPPOTrainer(config, run_dir, progress_bar=not args.no_progress).run(), config,
                           args.video)

    from deep_arena.agents.alphazero import trainer as az  # lazy: torch, only when AlphaZero trains

    if args.opponent is not None:
        parser.error("--opponent applies to --algo maskable_ppo (AlphaZero learns by self-play)")
    try:
        config = build_config(args, az.DEFAULTS, cli_keys={"board_size": "board_size", "komi": "komi",
                                                           "minutes": "minutes", "iterations": "steps",
                                                           **AZ_SCALE_FLAGS})
        if config["minutes"] is None and config["iterations"] is None:
            config["minutes"] = 30.0
        az.validate_config(config)
        resolve_device(config["device"])
        # Everything that can fail on bad input happens before the run directory exists.
        trainer = az.AlphaZeroTrainer(config, None, progress_bar=not args.no_progress)
        if args.init_from is not None:
            trainer.init_from(args.init_from)
    except (ValueError, CheckpointError) as err:
        parser.error(str(err))
    trainer.run_dir = _new_run(args, algo, config)
    return _finish(trainer, trainer.run_dir, args.video)


#: AlphaZero's scaling flags -> config keys (they may change on --resume: they change how, not what, it trains)
AZ_SCALE_FLAGS = {"selfplay.actors": "actors", "selfplay.ray_address": "ray_address", "expert.workers": "workers"}


def _new_run(args, algo: str, config: dict) -> RunDir:
    run_dir = RunDir.create("go", algo, root=args.run_root)
    run_dir.write_config(config)
    run_dir.write_command()
    print(f"run directory: {run_dir.path}")
    return run_dir


def _is_ppo_run(path: Path) -> bool:
    return path.name.startswith("maskable_ppo") or any((path / "checkpoints").glob("model_*.zip"))


def resume(args, parser) -> int:
    from deep_arena.agents.alphazero import trainer as az  # lazy: torch, only when AlphaZero trains

    fixed = {"--algo": args.algo, "--board-size": args.board_size, "--komi": args.komi, "--opponent": args.opponent,
             "--init-from": args.init_from, "--config": args.config}
    if _is_ppo_run(args.resume):
        return _resume_ppo(args, parser, fixed)
    # the budget: resume_budget below (--steps and --minutes mean "that much more")
    changes = {key: getattr(args, attr) for key, attr in AZ_SCALE_FLAGS.items()}
    run_dir, ckpt, config = resume_run(args, parser, fixed, changes,
                                       "--minutes, --steps, --actors, --ray-address, --workers", defaults=az.DEFAULTS)
    try:
        az.validate_config(config)
        resolve_device(config["device"])
        trainer = az.AlphaZeroTrainer(config, run_dir, progress_bar=not args.no_progress)
        trainer.load(ckpt)
        # AlphaZero needs one of its budgets, not both: a budget flag alone replaces the saved plan
        line = resume_budget(trainer.config, run_dir, ckpt, key="iterations", flag="--steps", unit="iteration",
                             done=int(trainer.counters["iteration"]), given=args.steps,
                             seconds_done=float(trainer.counters["elapsed"]), given_minutes=args.minutes,
                             required=False)
        az.validate_config(trainer.config)
    except (ValueError, CheckpointError) as err:
        parser.error(str(err))
    config.update({key: trainer.config[key] for key in ("iterations", "minutes")})
    run_dir.write_config(config)
    print(line, flush=True)
    return _finish(trainer, run_dir, args.video)


def _resume_ppo(args, parser, fixed: dict) -> int:
    from deep_arena.agents.go import ppo as go_ppo  # lazy: SB3 only when MaskablePPO trains
    from deep_arena.agents.sb3.checkpoints import latest_model_checkpoint  # lazy: SB3, as go_ppo above
    from deep_arena.agents.sb3.models import saved_algo, saved_progress  # lazy: SB3, as go_ppo above

    fixed = {**fixed, "--init-from": args.init_from}
    run_dir, ckpt, config = resume_run(
        args, parser, fixed, {}, "--minutes, --steps", find_checkpoint=latest_model_checkpoint,
        no_checkpoint=lambda _: "no checkpoint to resume from (checkpoints/model_*.zip)", defaults=go_ppo.DEFAULTS)
    try:
        go_ppo.validate_config(config)
        resolve_device(config["device"])
        saved_algo(ckpt, allowed=("maskable_ppo",))
        steps, seconds = saved_progress(ckpt)
        line = resume_budget(config, run_dir, ckpt, key="total_steps", flag="--steps", unit="env step", done=steps,
                             given=args.steps, seconds_done=seconds, given_minutes=args.minutes)
        trainer = go_ppo.GoPPOTrainer(config, run_dir, progress_bar=not args.no_progress)
        trainer.load(ckpt)  # the model and the self-play pool saved with it
    except ValueError as err:
        parser.error(str(err))
    run_dir.write_config(config)
    print(line, flush=True)
    return _finish_ppo(trainer.run(), config, args.video)


def _finish_ppo(result, config: dict, video: bool = False) -> int:
    from deep_arena.agents.sb3.checkpoints import latest_model_checkpoint  # lazy: SB3 only for MaskablePPO

    run_dir = result.run_dir
    print(f"run directory: {run_dir} ({folder_size_text(run_dir)})")
    if result.stopped_by == "interrupt":
        return report_interrupted(run_dir, ["arena-train", "go", "--resume", str(run_dir)],
                                  saved=[latest_model_checkpoint(run_dir / "checkpoints"), result.model_path])
    log_result_hparams(result, config)  # TensorBoard's HParams tab: settings and final metrics
    if video:
        record_final_game(result.model_path, run_dir, result.counters["env_steps"], config["board_size"],
                          config["komi"], seed=int(config["seed"]))
    print(f"final win rate vs random ({config['eval_games']} games): {result.metrics['win_rate_vs_random']:.2f}")
    print(f"model: {result.model_path}   sample game: {result.details['sample_game']}")
    return 0


#: AlphaZero checkpoints hold the replay buffer; the newest few are kept when a run ends (its trainer saves every
#: checkpoint_every iterations and keeps them all while it runs).
KEEP_ALPHAZERO_CHECKPOINTS = 3


def _finish(trainer, run_dir: RunDir, video: bool = False) -> int:
    run = trainer.run()
    prune_checkpoints(run_dir.checkpoints_dir, KEEP_ALPHAZERO_CHECKPOINTS)
    if run.stopped_by == "interrupt":
        print(f"run directory: {run_dir.path} ({folder_size_text(run_dir.path)})")
        return report_interrupted(run_dir.path, ["arena-train", "go", "--resume", str(run_dir.path)],
                                  saved=[run_dir.latest_checkpoint(), run.model_path])
    log_result_hparams(run, trainer.config)  # TensorBoard's HParams tab: settings and final metrics
    if video:
        record_final_game(run.model_path, run_dir.path, run.counters["iteration"], trainer.config["board_size"],
                          trainer.config["komi"], seed=int(trainer.config["seed"]))
    result = run.details
    for name, r in result.items():
        if name != "iteration":
            lo, hi = r["interval"]
            print(f"vs {name}: win rate {r['win_rate']:.2f} (95% CI {lo:.2f}-{hi:.2f}, {r['games']} games), "
                  f"Elo {r['elo']:+.0f}")
    print(f"model: {run_dir.path / 'model.pt'}   checkpoints: {run_dir.checkpoints_dir}")
    print(f"run directory: {run_dir.path} ({folder_size_text(run_dir.path)})")
    return 0


# ---------------------------------------------------------------------------------------------------------------
# evaluation


def evaluate_parser() -> argparse.ArgumentParser:
    go = argparse.ArgumentParser(prog="arena-evaluate go",
                                 description="Evaluate a Go player (random, gnugo:LEVEL, pretrained, .zip or .pt) "
                                             "against one or more opponents: W/D/L, 95% Wilson interval, Elo, a chart "
                                             "and every game as SGF.")
    go.add_argument("--model", required=True, help="the player: PATH.zip | PATH.pt | pretrained | random | gnugo:L")
    go.add_argument("--board-size", type=int_in_range(MIN_SIZE, MAX_SIZE), default=9, help="5 to 19 (default 9)")
    go.add_argument("--komi", type=finite_float, default=7.5, help="komi (default 7.5)")
    go.add_argument("--opponent", action="append", default=None,
                    help="random | gnugo:LEVEL | PATH.zip | PATH.pt | pretrained; repeatable (default random)")
    go.add_argument("--games", type=positive_int, default=100, help="games per opponent (default 100)")
    go.add_argument("--sims", type=positive_int, default=None, help="MCTS simulations per move (AlphaZero)")
    go.add_argument("--seed", type=seed_arg, default=0, help="game i uses seed SEED + i (default 0)")
    go.add_argument("--device", type=device, default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    go.add_argument("--opening-moves", type=int, default=0, metavar="K",
                    help="open each pair of games (colours swapped) with K random moves, so that deterministic "
                         "players do not replay one game (default 0)")
    go.add_argument("--max-moves", type=positive_int, default=None,
                    help="move cap per game, passes included (default 2*N*N); capped games are scored on the board")
    add_output_args(go, "go")
    return go


def evaluate(argv: Sequence[str] | None = None) -> int:
    """``arena-evaluate go ...``"""
    return run_evaluation(evaluate_parser().parse_args(argv))


def run_evaluation(args: argparse.Namespace) -> int:

    opponents = list(dict.fromkeys(args.opponent or ["random"]))  # each opponent once, in the order given
    players = []
    try:
        try:
            model = load_player(args.model, args.board_size, args.komi, device=args.device, sims=args.sims,
                                seed=args.seed)
            players.append(model)
            loaded = []
            for spec in opponents:
                opponent = load_player(spec, args.board_size, args.komi, device=args.device, sims=args.sims,
                                       seed=args.seed)
                players.append(opponent)
                loaded.append((spec, opponent))
            out = evaluation_dir(args, "go")
        except (ValueError, ImportError, OSError, CheckpointError) as err:  # OSError covers FileNotFoundError
            print(f"error: {err}", file=sys.stderr)
            return 2
        model_name = model.name
        names = [opponent.name for _, opponent in loaded]
        if len(set(names)) < len(names):  # e.g. two final_model.zip files from different runs: use the specs
            names = [spec for spec, _ in loaded]
        print(f"evaluating {model_name} on {args.board_size}x{args.board_size} (komi {args.komi:g}), "
              f"{args.games} games per opponent -> {out}")
        results, specs = {}, {}
        for name, (spec, opponent) in zip(names, loaded):
            result = play_match(model, opponent, args.board_size, args.komi, args.games, args.seed,
                                sgf_dir=out / "sgf" / safe_name(name), progress=not args.no_progress,
                                max_moves=args.max_moves, player_name=model_name, opponent_name=name,
                                opening_moves=args.opening_moves)
            results[name] = result
            specs[name] = spec
            print(result.summary(), flush=True)
        summary = {
            "model": args.model, "board_size": args.board_size, "komi": args.komi, "games": args.games,
            "seed": args.seed, "sims": args.sims, "max_moves": args.max_moves, "opening_moves": args.opening_moves,
            "command": sys.argv,
            "results": {name: {"spec": specs[name], **r.to_dict()} for name, r in results.items()},
        }
        (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        chart = plot_match_results(results, out / "win_rates.png",
                                   title=f"{model_name} - {args.board_size}x{args.board_size}, komi {args.komi:g}, "
                                         f"{args.games} games each")
        print(f"results: {out / 'results.json'}   chart: {chart}   games: {out / 'sgf'}")
        return 0
    finally:
        for player in players:
            player.close()
