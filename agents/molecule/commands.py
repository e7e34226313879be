"""Train a molecule-design agent and log to runs/molecule/<algo>-<time>/ (watch with `tensorboard --logdir runs`).

    python scripts/train_molecule.py --objective qed --algo moldqn --episodes 2000 [--device auto] [--seed 0]
    python scripts/train_molecule.py --objective plogp --algo moldqn --minutes 60
    python scripts/train_molecule.py --objective sim_plogp --start-file starts.smi --episodes 4000
    python scripts/train_molecule.py --objective qed --algo maskable_ppo --steps 200000
    python scripts/train_molecule.py --resume runs/molecule/moldqn-20261125-120000 [--episodes 2000 (more)]
    python scripts/train_molecule.py --objective qed --gan-reward pretrained --gan-lambda 0.3 --set env.max_atoms=9
    python scripts/train_molecule.py --objective qed --start-from-gan pretrained --episodes 500

Objectives: qed | plogp (raw penalized logP) | plogp_zinc | sim_plogp (MolDQN's constrained form, similarity to each
episode's start molecule) | multi (--set weights.qed=0.5 ...) | similarity (--set target=SMILES).
Any config value can be set with --config FILE.yml or --set key=value (e.g. --set env.max_atoms=20).
The run directory gets top_molecules.csv (SMILES and every score) and top_molecules.png.

Ctrl-C (or SIGTERM) stops at the next safe point (an episode's end for moldqn, an env step for maskable_ppo): a
checkpoint, the model and the top molecules are saved and the exit status is 130; for moldqn the command that
continues the run is printed (maskable_ppo runs cannot be resumed yet). --resume with no budget flag finishes the
run's saved plan; with --episodes N or --minutes M it trains that much more (the saved time limit is dropped unless
--minutes is given). --minutes counts the run's training time across resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


from deep_arena.agents.molecule.video import record_final_episode
from deep_arena.runtime import CheckpointError, RunDir, add_common_args, build_config, resolve_device
from deep_arena.runtime.argtypes import device, finite_float, minutes, positive_int
from deep_arena.runtime.checkpoint import folder_size_text
from deep_arena.runtime.cli import RESUME_RULE, add_output_args, evaluation_dir, resume_budget, resume_run, seed_arg
from deep_arena.runtime.interrupts import report_interrupted
from deep_arena.runtime.tb import log_result_hparams
from deep_arena.runtime.trainer import RunResult

OBJECTIVES = ["qed", "plogp", "plogp_zinc", "sim_plogp", "multi", "similarity", "logp"]


def train(argv: Sequence[str] | None = None) -> int:
    """``arena-train molecule ...``"""
    parser = argparse.ArgumentParser(prog="arena-train molecule", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["moldqn", "maskable_ppo"], default=None, help="default moldqn")
    parser.add_argument("--objective", choices=OBJECTIVES, default=None, help="default qed")
    parser.add_argument("--episodes", type=positive_int, default=None,
                        help=f"moldqn: training episodes; {RESUME_RULE}")
    parser.add_argument("--steps", type=positive_int, default=None, help="maskable_ppo: env steps")
    parser.add_argument("--minutes", type=minutes, default=None,
                        help=f"wall-clock budget (the run's training time); {RESUME_RULE}")
    parser.add_argument("--start-smiles", default=None, help="start molecule (default: a single carbon)")
    parser.add_argument("--start-file", type=Path, default=None, help="start molecules, one SMILES per line")
    parser.add_argument("--gan-reward", default=None, metavar="MODEL|pretrained",
                        help="mix a GAN critic into the reward: lambda * D(mol) + (1 - lambda) * objective")
    parser.add_argument("--gan-lambda", type=finite_float, default=None, help="the critic's weight (default 0.3)")
    parser.add_argument("--start-from-gan", default=None, metavar="MODEL|pretrained",
                        help="start episodes from molecules sampled from this GAN generator")
    parser.add_argument("--gan-starts", type=positive_int, default=200, help="how many GAN start molecules")
    parser.add_argument("--resume", type=Path, default=None, help="continue a MolDQN run directory")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--video", action="store_true",
                        help="at the end, the final model builds one molecule: RUN_DIR/videos/final_<episodes>.mp4 "
                             "and TensorBoard's eval/video")
    add_common_args(parser)
    args = parser.parse_args(argv)

    if args.resume is not None:
        return resume(args, parser)
    algo = args.algo or "moldqn"
    if algo == "maskable_ppo":
        from deep_arena.agents.molecule import ppo as molecule_ppo  # lazy: SB3 only when PPO trains

        if args.episodes is not None:
            parser.error("--episodes applies to --algo moldqn; use --steps for maskable_ppo")
        try:
            config = build_config(args, molecule_ppo.DEFAULTS, cli_keys=_cli_keys(steps_key="total_steps"))
            if config["start_file"] is not None:  # --start-file is a Path; the setting (and config.yml) holds a string
                config["start_file"] = str(config["start_file"])
            molecule_ppo.validate_config(config)
            resolve_device(config["device"])
            _gan_starts(args, config)
            reward_fn = _reward_fn(config)
            molecule_ppo.make_env(config, reward_fn=reward_fn)  # bad SMILES / objectives fail here
        except (ValueError, OSError) as err:
            parser.error(str(err))
        run_dir = _new_run(args, algo, config)
        trainer = molecule_ppo.MoleculePPOTrainer(config, run_dir, progress_bar=not args.no_progress,
                                                  reward_fn=reward_fn)
        return _report(trainer.run(), run_dir, args.video)

    from deep_arena.agents.moldqn import trainer as dqn  # lazy: torch only when MolDQN trains

    if args.steps is not None:
        parser.error("--steps applies to --algo maskable_ppo; use --episodes for moldqn")
    try:
        config = build_config(args, dqn.DEFAULTS, cli_keys=_cli_keys(steps_key=None))
        if config["start_file"] is not None:  # --start-file is a Path; the setting (and config.yml) holds a string
            config["start_file"] = str(config["start_file"])
        _gan_starts(args, config)
        trainer = dqn.MolDQNTrainer(config, None, reward_fn=_reward_fn(config), progress_bar=not args.no_progress)
    except (ValueError, OSError) as err:  # bad config, SMILES, objective, device, GAN model
        parser.error(str(err))
    trainer.run_dir = _new_run(args, algo, config)
    return _report(trainer.run(), trainer.run_dir, args.video)


def _reward_fn(config: dict):
    """The GAN-mixed reward when the config names a GAN critic (ORGAN / ATNC pairing), else None."""
    if not config.get("gan_reward"):
        return None
    from deep_arena.envs.molecule import rewards  # lazy: RDKit, only when a run builds its reward
    from deep_arena.gan.rewards import DiscriminatorReward, MixedReward  # lazy: torch, only with --gan-reward

    if config["objective"] == "sim_plogp":
        raise ValueError("--gan-reward cannot be mixed with sim_plogp (its similarity follows each start molecule)")
    kwargs = {k: config[k] for k in ("target", "weights") if config.get(k) is not None}
    objective = rewards.make_objective(config["objective"], **kwargs)
    return MixedReward(objective, DiscriminatorReward(config["gan_reward"]), float(config["gan_lambda"]))


def _gan_starts(args, config: dict) -> None:
    """--start-from-gan: replace the start molecules by distinct GAN samples the env accepts (saved in config.yml,
    so the run is reproducible and resumable)."""
    if not args.start_from_gan:
        return
    if args.start_smiles or args.start_file:
        raise ValueError("--start-from-gan replaces --start-smiles/--start-file; give only one of them")
    from deep_arena.envs.molecule.chem import EditableMolecule, EditRules  # lazy: RDKit, only with --start-from-gan
    from deep_arena.gan.rewards import gan_start_smiles  # lazy: torch, only with --start-from-gan

    e = config["env"]
    rules = EditRules(tuple(e["atom_types"]), dict(e.get("valences") or {}), tuple(e["ring_sizes"]), e["max_atoms"])
    config["start_smiles"] = gan_start_smiles(args.start_from_gan, args.gan_starts, seed=int(config["seed"]),
                                              accept=lambda s: EditableMolecule.from_smiles(s, rules))
    config["start_file"] = None
    print(f"starting from {len(config['start_smiles'])} GAN molecules, e.g. {config['start_smiles'][:3]}")


def _cli_keys(steps_key: str | None) -> dict[str, str]:
    keys = {"objective": "objective", "minutes": "minutes", "start_smiles": "start_smiles",
            "start_file": "start_file", "gan_reward": "gan_reward", "gan_lambda": "gan_lambda"}
    if steps_key is None:
        keys["episodes"] = "episodes"
    else:
        keys[steps_key] = "steps"
    return keys


def _new_run(args, algo: str, config: dict) -> RunDir:
    if config.get("start_file") is not None:
        config["start_file"] = str(config["start_file"])
    run_dir = RunDir.create("molecule", algo, root=args.run_root)
    run_dir.write_config(config)
    run_dir.write_command()
    print(f"run directory: {run_dir.path}")
    return run_dir


def resume(args, parser) -> int:
    from deep_arena.agents.moldqn import trainer as dqn  # lazy: torch only when MolDQN trains

    fixed = {"--algo": args.algo, "--objective": args.objective, "--start-smiles": args.start_smiles,
             "--start-file": args.start_file, "--config": args.config, "--steps": args.steps,
             "--gan-reward": args.gan_reward, "--gan-lambda": args.gan_lambda, "--start-from-gan": args.start_from_gan}
    # the budget: resume_budget below (--episodes and --minutes mean "that much more")
    run_dir, ckpt, config = resume_run(
        args, parser, fixed, {}, "--episodes, --minutes",
        no_checkpoint=lambda _: "no checkpoint to resume from (MaskablePPO runs cannot be resumed yet)",
        defaults=dqn.DEFAULTS)
    try:
        trainer = dqn.MolDQNTrainer(config, run_dir, reward_fn=_reward_fn(config), progress_bar=not args.no_progress)
        trainer.load(ckpt)
        line = resume_budget(trainer.config, run_dir, ckpt, key="episodes", flag="--episodes", unit="episode",
                             done=int(trainer.counters["episode"]), given=args.episodes,
                             seconds_done=float(trainer.counters["seconds"]), given_minutes=args.minutes)
        dqn.validate_config(trainer.config)
    except (ValueError, CheckpointError, OSError) as err:
        parser.error(str(err))
    config.update({key: trainer.config[key] for key in ("episodes", "minutes")})
    run_dir.write_config(config)
    print(line, flush=True)
    return _report(trainer.run(), run_dir, args.video)


def _report(result: RunResult | dict, run_dir: RunDir, video: bool = False) -> int:
    """Print a finished run: a trainer's ``RunResult`` (its summary, then the top-3 molecules in ``details["top"]``),
    or the dict MaskablePPO's ``train`` returns; with ``video``, record one episode of the final model."""
    if isinstance(result, RunResult) and result.stopped_by == "interrupt":
        print(f"run directory: {run_dir.path} ({folder_size_text(run_dir.path)})")
        top = run_dir.path / "top_molecules.csv"
        if result.model_path is not None and result.model_path.suffix == ".zip":  # MaskablePPO's final_model.zip
            from deep_arena.agents.sb3.checkpoints import latest_model_checkpoint  # lazy: SB3 only for PPO

            saved = [latest_model_checkpoint(run_dir), result.model_path, top]
            return report_interrupted(run_dir.path, None, saved=saved,
                                      note="MaskablePPO molecule runs cannot be resumed yet: start a new run, or "
                                           f"evaluate the model saved so far (arena-evaluate molecule --model "
                                           f"{result.model_path})")
        return report_interrupted(run_dir.path, ["arena-train", "molecule", "--resume", str(run_dir.path)],
                                  saved=[run_dir.latest_checkpoint(), result.model_path, top])
    if isinstance(result, RunResult):
        log_result_hparams(result)  # TensorBoard's HParams tab: settings (config.yml) and final metrics
        print(result.summary())
        top, model = result.details.get("top") or [], None  # the summary names the model
    else:
        top, model = result.get("top") or [], result.get("model_path") or run_dir.path / "model.pt"
    for rank, (score, smiles) in enumerate(top[:3], 1):
        print(f"top-{rank}: {score:.4f}  {smiles}")
    if video and isinstance(result, RunResult) and result.model_path is not None:
        record_final_episode(result.model_path, run_dir.path, result.counters.get("episodes", 0))
    print(f"top molecules: {run_dir.path / 'top_molecules.csv'}" + (f"   model: {model}" if model else ""))
    print(f"run directory: {run_dir.path} ({folder_size_text(run_dir.path)})")
    return 0


# ---------------------------------------------------------------------------------------------------------------
# evaluation


def evaluate_parser() -> argparse.ArgumentParser:
    mol = argparse.ArgumentParser(prog="arena-evaluate molecule",
                                  description="Run seeded episodes of a MolDQN (model.pt) or MaskablePPO (.zip) agent: "
                                              "top molecules, validity, uniqueness, constrained improvement.")
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
    add_output_args(mol, "molecule")
    return mol


def evaluate(argv: Sequence[str] | None = None) -> int:
    """``arena-evaluate molecule ...``"""
    return run_evaluation(evaluate_parser().parse_args(argv))


def run_evaluation(args: argparse.Namespace) -> int:
    from deep_arena.agents.molecule import evaluation as molecule_eval  # lazy: RDKit and torch, only when a model is evaluated
    from deep_arena.agents.molecule.outputs import write_top_molecules  # lazy: see above
    from deep_arena.agents.molecule.players import load_molecule_agent  # lazy: see above

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
        out = evaluation_dir(args, "molecule")
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
    import matplotlib  # lazy: slow, and selecting the Agg backend at import would change the caller's

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: see above

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
