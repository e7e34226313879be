#!/usr/bin/env python
"""Evaluate a trained agent against fixed opponents and report win rates with confidence intervals.

Examples (from the repository root)::

    .venv/bin/python scripts/evaluate.py go --model runs/go/maskable_ppo-.../final_model.zip --board-size 7 \\
        --opponent random --opponent gnugo:1 --games 100
    .venv/bin/python scripts/evaluate.py go --model pretrained --board-size 9 --opponent gnugo:5 --sims 200
    .venv/bin/python scripts/evaluate.py go --model random --opponent random --board-size 5 --games 20

Go players (--model and --opponent): random, gnugo:LEVEL (0..10), pretrained, a MaskablePPO model (.zip) or an
AlphaZero checkpoint (.pt). The model plays Black in even games and White in odd ones; game i uses seed SEED + i.
For each opponent it prints W/D/L, the score rate (draws count half), its 95% Wilson interval and the Elo
difference with the interval's Elo ends. Into --out (default: a fresh runs/go/eval-<timestamp>/; an existing
non-empty folder is refused) go results.json, win_rates.png and every game as SGF under sgf/<opponent>/.

Robot arm: seeded episodes (episode i resets with seed SEED + i) of a policy trained by scripts/train_arm.py, with
the deterministic action; prints the success rate (success at the last step) with its 95% Wilson interval, the mean
return and the mean final distance, and writes results.json and final_distances.png into --out (default: a fresh
runs/arm/eval-<timestamp>/)::

    .venv/bin/python scripts/evaluate.py arm --task reach --model pretrained --episodes 100
    .venv/bin/python scripts/evaluate.py arm --task push --model runs/arm/tqc-.../final_model.zip --episodes 100

Molecule design: seeded episodes of a MolDQN (model.pt) or MaskablePPO (.zip) agent from one start molecule or a
file of them; prints validity, uniqueness and the top molecules, and with --delta MolDQN's constrained-optimisation
figures (best pLogP improvement at similarity >= delta, success rate); writes results.json, top_molecules.csv/.png
and improvements.png::

    .venv/bin/python scripts/evaluate.py molecule --model pretrained --episodes 20
    .venv/bin/python scripts/evaluate.py molecule --model runs/molecule/moldqn-.../model.pt \\
        --start-file benchmarks/data/moses_low_plogp_100.smi --delta 0.4 --episodes 5

Molecular GAN: samples a generator (generator.pt, run directory or pretrained) and prints validity, unique@1k/@10k,
novelty, internal diversity, FCD (fcd_torch) and the PAINS pass rate; writes results.json, properties.png and
samples.png::

    .venv/bin/python scripts/evaluate.py gan --model pretrained --n 10000 [--samples designs.smi]

Tabular GAN: utility of synthetic rows (gan.tabular.evaluate) over 5 seeds: per seed a stratified 70/30 split, a fresh
GAN with the model file's settings trained on the 70 % (the model's own weights saw every row and are not scored), TSTR
against TRTR, and minority-class F1 / PR-AUC of a random forest on real + synthetic minority rows against real +
SMOTE (imblearn Pipeline: resampling inside training only); the `ctgan` package is trained on the same splits as a
peer (--no-peer, or skipped with a note when it is not installed). Writes results.json and utility.png::

    .venv/bin/python scripts/evaluate.py tabular --model runs/gan/tabular-.../model.pt --data FILE.csv --target COL
    .venv/bin/python scripts/evaluate.py tabular --model runs/gan/tabular-.../model.pt --data demo --no-peer

Each environment is a subcommand (`go`, `arm`, `molecule`, `gan`, `tabular`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Let `python scripts/evaluate.py` work from a checkout even without the editable install.

from deep_arena.runtime.argtypes import device, finite_float, int_in_range, positive_float, positive_int  # noqa: E402
from deep_arena.runtime.cli import seed_arg  # noqa: E402
from deep_arena.envs.go.game import MAX_SIZE, MIN_SIZE  # noqa: E402

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="env", required=True, metavar="ENV")
    go = sub.add_parser("go", help="evaluate a Go player against one or more opponents",
                        description="Evaluate a Go player (random, gnugo:LEVEL, pretrained, .zip or .pt).")
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
    _add_output_args(go, "go")
    go.set_defaults(func=run_go)
    add_arm_parser(sub)
    add_molecule_parser(sub)
    add_gan_parser(sub)
    add_tabular_parser(sub)
    return parser


def _add_output_args(parser: argparse.ArgumentParser, folder: str) -> None:
    """--out, --run-root and --no-progress, shared by the subcommands."""
    parser.add_argument("--out", default=None,
                        help=f"output folder (default: a fresh runs/{folder}/eval-<timestamp>/)")
    parser.add_argument("--run-root", default="runs", help="where the default output folder goes (default runs)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _output_dir(args: argparse.Namespace, env: str = "go") -> Path:
    from deep_arena.runtime import RunDir, create_run_dir

    if args.out is None:
        # A fresh, never reused folder (RunDir.create minus the checkpoints/ folder an evaluation has no use for).
        return RunDir(create_run_dir(env, "eval", root=args.run_root)).path
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {str(out)!r} already exists and is not an empty folder; nothing is overwritten")
    out.mkdir(parents=True, exist_ok=True)
    return out


def run_go(args: argparse.Namespace) -> int:
    from deep_arena.agents.go.match import play_match, plot_match_results, safe_name
    from deep_arena.agents.go.players import load_player
    from deep_arena.runtime import CheckpointError

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
            out = _output_dir(args)
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


# ---------------------------------------------------------------------------------------------------------------
# arm

ARM_TASKS = ("reach", "push", "pick_and_place")


def add_arm_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    arm = sub.add_parser("arm", help="evaluate a robot-arm policy: success rate with a 95%% interval",
                         description="Evaluate a robot-arm policy saved by scripts/train_arm.py (SAC, TD3, TQC or "
                                     "PPO .zip) or a shipped one (pretrained).")
    arm.add_argument("--task", choices=ARM_TASKS, required=True)
    arm.add_argument("--model", required=True, metavar="PATH|pretrained",
                     help="final_model.zip, a checkpoint model_*.zip, or pretrained (the shipped arm-<task> model)")
    arm.add_argument("--episodes", type=positive_int, default=100, help="episodes (default 100)")
    arm.add_argument("--seed", type=seed_arg, default=0, help="episode i resets with seed SEED + i (default 0)")
    arm.add_argument("--reward-type", choices=("sparse", "dense"), default=None,
                     help="reward for the reported return (default: the model's run config, else sparse)")
    arm.add_argument("--control", choices=("ee", "joint"), default=None,
                     help="action mode (default: the model's run config, else ee)")
    arm.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")
    arm.add_argument("--coverage", action="store_true",
                     help="instead of --episodes random goals, try every goal of a fixed grid over the goal box and "
                          "report the fraction reached (Goal GAN's coverage)")
    arm.add_argument("--per-axis", type=positive_int, default=4, help="coverage grid points per axis (default 4)")
    arm.add_argument("--goal-space", choices=("default", "wide"), default=None,
                     help="goal box (default: the model's run config, else default)")
    arm.add_argument("--device", type=device, default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    _add_output_args(arm, "arm")
    arm.set_defaults(func=run_arm)
    return arm


def run_arm(args: argparse.Namespace) -> int:
    os.environ.setdefault("MUJOCO_GL", "egl")
    from deep_arena.agents.arm.outputs import plot_final_distances, summarize, summary_line
    from deep_arena.agents.arm import sb3_trainer as arm

    env = None
    try:
        path, env_config = arm.resolve_model(args.model, args.task, args.reward_type, args.control)
        if args.goal_space is not None:
            env_config["env_kwargs"] = {**env_config["env_kwargs"], "goal_space": args.goal_space}
        env = arm.make_env(env_config)
        model = arm.load_model(path, device=args.device, env=env)
        out = _output_dir(args, "arm")
    except (ValueError, ImportError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        if env is not None:
            env.close()
        return 2
    goals = None
    if args.coverage:
        goals = arm.coverage_goals(env.unwrapped.goal_low, env.unwrapped.goal_high, args.per_axis)
    space = env_config["env_kwargs"].get("goal_space", "default")
    try:
        what = f"{len(goals)} grid goals ({space} goal space)" if args.coverage else f"{args.episodes} episodes"
        print(f"evaluating {path} on {arm.env_id(args.task)} ({env_config['reward_type']} reward, "
              f"{env_config['control']} control), {what} -> {out}", flush=True)
        result = arm.run_episodes(model, env, args.episodes, args.seed, deterministic=not args.stochastic,
                                  progress=not args.no_progress, goals=goals)
    finally:
        env.close()
    if args.coverage:
        return _arm_coverage_report(args, path, env_config, goals, result, out)
    summary = summarize(result)
    print(summary_line(summary))
    record = {"task": args.task, "env_id": arm.env_id(args.task), "model": args.model, "model_path": str(path),
              "algo": arm.saved_algo(path), "seed": args.seed, "deterministic": not args.stochastic,
              **{k: v for k, v in env_config.items() if k != "task"}, "command": sys.argv, **summary,
              "per_episode": {"returns": result["returns"].tolist(), "successes": result["successes"].tolist(),
                              "final_distances": result["final_distances"].tolist()}}
    (out / "results.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    chart = plot_final_distances(result["final_distances"], out / "final_distances.png",
                                 title=f"{Path(path).name} on {arm.env_id(args.task)}, {args.episodes} episodes",
                                 summary=summary)
    print(f"results: {out / 'results.json'}   chart: {chart}")
    return 0


def _arm_coverage_report(args, path, env_config, goals, result, out: Path) -> int:
    from deep_arena.agents.arm.outputs import plot_coverage
    from deep_arena.agents.stats import wilson_interval
    from deep_arena.agents.arm import sb3_trainer as arm

    reached = result["successes"]
    k, n = int(reached.sum()), len(reached)
    lo, hi = wilson_interval(k, n)
    space = env_config["env_kwargs"].get("goal_space", "default")
    print(f"coverage {k / n:.3f} ({k}/{n} grid goals reached, 95% Wilson interval {lo:.3f}-{hi:.3f}), "
          f"{args.per_axis} points per axis of the {space} goal box")
    record = {"task": args.task, "env_id": arm.env_id(args.task), "model": args.model, "model_path": str(path),
              "algo": arm.saved_algo(path), "seed": args.seed, "deterministic": not args.stochastic,
              **{k_: v for k_, v in env_config.items() if k_ != "task"}, "command": sys.argv,
              "coverage": k / n, "reached": k, "goals": n, "coverage_interval_95": [lo, hi],
              "per_axis": args.per_axis, "grid": goals.tolist(), "grid_reached": reached.tolist(),
              "final_distances": result["final_distances"].tolist()}
    (out / "results.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    chart = plot_coverage(goals, reached, out / "coverage.png",
                          title=f"{Path(path).name}: coverage {k}/{n} ({space} goals)")
    print(f"results: {out / 'results.json'}   chart: {chart}")
    return 0


# ---------------------------------------------------------------------------------------------------------------
# molecule


def add_molecule_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    mol = sub.add_parser("molecule", help="evaluate a molecule-design agent: top molecules, validity, uniqueness, "
                                          "constrained improvement",
                         description="Run seeded episodes of a MolDQN (model.pt) or MaskablePPO (.zip) agent.")
    mol.add_argument("--model", required=True, metavar="PATH|RUN_DIR|pretrained")
    mol.add_argument("--objective", default=None, help="objective to score with (default: the model's)")
    mol.add_argument("--start-smiles", default=None, help="one start molecule (default: the model's start)")
    mol.add_argument("--start-file", type=Path, default=None, help="start molecules, one SMILES per line")
    mol.add_argument("--episodes", type=positive_int, default=10,
                     help="episodes per start molecule: the first greedy, the others epsilon-greedy (default 10)")
    mol.add_argument("--epsilon", type=finite_float, default=0.05, help="exploration after the first (default 0.05)")
    mol.add_argument("--delta", type=finite_float, default=None,
                     help="constrained optimisation: report the best pLogP improvement at similarity >= DELTA")
    mol.add_argument("--top-k", type=positive_int, default=10)
    mol.add_argument("--seed", type=seed_arg, default=0)
    mol.add_argument("--device", type=device, default="auto")
    _add_output_args(mol, "molecule")
    mol.set_defaults(func=run_molecule)
    return mol


def run_molecule(args: argparse.Namespace) -> int:
    from deep_arena.agents.molecule import evaluation as molecule_eval
    from deep_arena.agents.molecule.outputs import write_top_molecules
    from deep_arena.agents.molecule.players import load_molecule_agent
    from deep_arena.runtime import CheckpointError

    if not 0 <= args.epsilon <= 1:
        print(f"error: --epsilon must be in [0, 1], got {args.epsilon}", file=sys.stderr)
        return 2
    try:
        policy, act = load_molecule_agent(args.model, device=args.device)
        if args.start_file is not None:
            starts = molecule_eval.read_smiles_file(args.start_file)
        else:
            starts = [args.start_smiles]
        objective = args.objective
        if args.delta is not None and objective is None:
            objective = "plogp"  # the constrained report computes similarity and pLogP itself
        env = policy.make_env(objective=objective)
        for s in starts:  # bad start molecules fail here, with their name, before any episode runs
            if s is not None:
                env.reset(options={"smiles": s})
        out = _output_dir(args, "molecule")
    except (ValueError, CheckpointError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"evaluating {args.model}: {len(starts)} start(s) x {args.episodes} episodes -> {out}", flush=True)
    records = molecule_eval.run_episodes(env, act, starts, args.episodes, epsilon=args.epsilon, seed=args.seed,
                                         progress_bar=not args.no_progress)
    summary = molecule_eval.summarize(records, top_k=args.top_k)
    print(f"episodes {summary['episodes']}: validity {summary['validity']:.3f}, uniqueness of final molecules "
          f"{summary['uniqueness']:.3f}, mean final score {summary['mean_score']:.4f}")
    for rank, (score, smiles) in enumerate(summary["top"][:3], 1):
        print(f"top-{rank}: {score:.4f}  {smiles}")
    record = {"model": args.model, "objective": objective or getattr(policy, "objective", None),
              "episodes_per_start": args.episodes, "epsilon": args.epsilon, "seed": args.seed,
              "command": sys.argv, **{k: v for k, v in summary.items()}}
    if args.delta is not None:
        constrained = molecule_eval.constrained_improvement(records, args.delta)
        print(f"constrained (delta {args.delta}): {constrained['starts']} starts, improvement "
              f"{constrained['mean_improvement']:.2f} +- {constrained['std_improvement']:.2f}, success "
              f"{constrained['success_rate']:.1%}, mean similarity {constrained['mean_similarity']:.2f}")
        record["constrained"] = constrained
        _improvement_chart(constrained, out / "improvements.png")
    write_top_molecules(out, summary["top"])
    (out / "results.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"results: {out / 'results.json'}   top molecules: {out / 'top_molecules.csv'}")
    return 0


def _improvement_chart(constrained: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [r["improvement"] for r in constrained["rows"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(values, bins=20, color="tab:green")
    ax.set_xlabel("pLogP improvement at similarity >= %.2f" % constrained["delta"])
    ax.set_ylabel("start molecules")
    ax.set_title(f"mean {constrained['mean_improvement']:.2f} +- {constrained['std_improvement']:.2f}, "
                 f"success {constrained['success_rate']:.0%}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------------------
# gan


def add_gan_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    g = sub.add_parser("gan", help="sample a molecular GAN: validity, unique@1k/@10k, novelty, IntDiv, FCD, filters",
                       description="Sample a MolGAN generator (generator.pt, a run directory or pretrained) and "
                                   "report MOSES-style metrics; writes results.json, properties.png, samples.png.")
    g.add_argument("--model", required=True, metavar="PATH|RUN_DIR|pretrained")
    g.add_argument("--n", type=positive_int, default=10000, help="samples (default 10000)")
    g.add_argument("--train-data", default="qm9", help="novelty against: qm9 | moses | FILE (default qm9)")
    g.add_argument("--reference", default=None,
                   help="FCD reference set (default: a seeded random subset of --train-data; moses-test for MOSES)")
    g.add_argument("--fcd-n", type=positive_int, default=10000, help="reference molecules for FCD (default 10000)")
    g.add_argument("--no-fcd", action="store_true", help="skip FCD (ChemNet on CPU takes minutes)")
    g.add_argument("--decode", choices=["sample", "argmax", "valence"], default=None,
                   help="graph decoding (default: the model's; see gan.molgan.MolGAN.sample_graphs)")
    g.add_argument("--temperature", type=positive_float, default=None,
                   help="divide the generator's logits by this before decoding (default: the model's, 1.0 unless set)")
    g.add_argument("--seed", type=seed_arg, default=0)
    g.add_argument("--device", type=device, default="cpu")
    g.add_argument("--out", default=None, help="output folder (default: a fresh runs/gan/eval-<timestamp>/); a name "
                                                "ending in .smi/.txt is taken as --samples instead")
    g.add_argument("--samples", type=Path, default=None, metavar="FILE.smi", help="also write the samples here")
    g.add_argument("--run-root", default="runs")
    g.set_defaults(func=run_gan)
    return g


def run_gan(args: argparse.Namespace) -> int:
    from deep_arena.runtime import CheckpointError, resolve_device
    from deep_arena.gan.data import DataError
    from deep_arena.gan.evaluate import evaluate_generator, load_generator

    if args.out is not None and args.out.endswith((".smi", ".txt")):   # `--out designs.smi`: the samples file
        args.samples, args.out = Path(args.out), None
    try:
        gan = load_generator(args.model, device=str(resolve_device(args.device)))
        if args.decode:
            gan.config["decode"] = args.decode
        if args.temperature is not None:
            gan.config["temperature"] = args.temperature
        out = _output_dir(args, "gan")
    except (ValueError, CheckpointError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        result = evaluate_generator(gan, args.n, out, train_data=args.train_data, reference=args.reference,
                                    fcd_n=args.fcd_n, with_fcd=not args.no_fcd, seed=args.seed,
                                    samples_path=args.samples)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    def fmt(v):
        return "n/a" if v is None else f"{v:.3f}"

    print(f"validity {fmt(result['validity'])}  unique@1k {fmt(result['unique@1k'])}  unique@10k "
          f"{fmt(result['unique@10k'])}  novelty {fmt(result['novelty'])}  IntDiv {fmt(result['intdiv'])}  "
          f"FCD {fmt(result['fcd'])}  PAINS-pass {fmt(result['pains_pass'])}")
    print(f"means: QED {fmt(result['qed_mean'])}  logP {fmt(result['logp_mean'])}  SA {fmt(result['sa_mean'])}  "
          f"({result['n_valid']} valid, {result['n_unique']} unique of {result['n']})")
    result.update({"model": args.model, "seed": args.seed, "command": sys.argv})
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {out / 'results.json'}   plots: {out / 'properties.png'}, {out / 'samples.png'}")
    return 0


# ---------------------------------------------------------------------------------------------------------------
# tabular


def add_tabular_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser("tabular", help="tabular GAN utility: TSTR vs TRTR, minority F1 / PR-AUC vs SMOTE, ctgan peer",
                       description="Evaluate the conditional tabular GAN's settings on a CSV over several seeds "
                                   "(see gan/tabular/evaluate.py for the protocol).")
    t.add_argument("--model", required=True, metavar="PATH|RUN_DIR", help="model.pt from train_gan.py tabular")
    t.add_argument("--data", required=True, help="FILE.csv, or demo (the imbalanced breast-cancer table)")
    t.add_argument("--target", default=None, help="the class column (default: the model's)")
    t.add_argument("--seeds", type=positive_int, default=5, help="seeds 0..N-1, one split each (default 5)")
    t.add_argument("--epochs", type=positive_int, default=None, help="our epochs (default: the model's config)")
    t.add_argument("--peer-epochs", type=positive_int, default=None, help="ctgan epochs (default: ours)")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting of the model's config for the retraining, e.g. --set batch_size=128")
    t.add_argument("--no-peer", action="store_true", help="skip the ctgan peer")
    t.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads, both GANs (default 1)")
    t.add_argument("--device", type=device, default="cpu")
    _add_output_args(t, "gan")
    t.set_defaults(func=run_tabular)
    return t


def run_tabular(args: argparse.Namespace) -> int:
    import tempfile

    import torch

    from deep_arena.runtime import merge_config, resolve_device
    from deep_arena.gan.tabular import (TabularGAN, evaluate_utility, format_table, load_table, peer_available,
                                        utility_chart, validate_config, write_results)

    try:
        model = TabularGAN.load(args.model)
        config = merge_config(model.config, None, {"epochs": args.epochs} if args.epochs else {}, args.overrides)
        config["data"], config["target"] = args.data, args.target or model.transformer.target
        validate_config(config)
        with tempfile.TemporaryDirectory() as tmp:
            table = load_table(config, tmp)
        if set(table.columns) != set(model.transformer.columns):
            raise ValueError(f"{args.data}: columns differ from the model's ({', '.join(model.transformer.columns)})")
        dev = str(resolve_device(args.device))
        out = _output_dir(args, "gan")
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    peer = not args.no_peer
    if peer:
        peer, note = peer_available()
        if not peer:
            print(f"note: {note}")
    torch.set_num_threads(args.threads)
    print(f"evaluating tabular GAN settings of {args.model} on {args.data} ({table.n_rows} rows, "
          f"{table.class_counts()}), {args.seeds} seeds, epochs {config['epochs']}"
          f"{', ctgan peer' if peer else ''} -> {out}", flush=True)
    result = evaluate_utility(table, config, seeds=range(args.seeds), peer=peer, peer_epochs=args.peer_epochs,
                              device=dev, progress_bar=not args.no_progress)
    result.update({"model": args.model, "data": args.data, "target": table.target, "threads": args.threads,
                   "config": config, "command": sys.argv})
    print(format_table(result))
    path = write_results(result, out)
    chart = utility_chart(result, out / "utility.png")
    print(f"results: {path}   chart: {chart}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
