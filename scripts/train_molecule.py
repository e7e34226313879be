#!/usr/bin/env python
"""Train a molecule-design agent and log to runs/molecule/<algo>-<time>/ (watch with `tensorboard --logdir runs`).

    python scripts/train_molecule.py --objective qed --algo moldqn --episodes 2000 [--device auto] [--seed 0]
    python scripts/train_molecule.py --objective plogp --algo moldqn --minutes 60
    python scripts/train_molecule.py --objective sim_plogp --start-file starts.smi --episodes 4000
    python scripts/train_molecule.py --objective qed --algo maskable_ppo --steps 200000
    python scripts/train_molecule.py --resume runs/molecule/moldqn-20261125-120000 [--episodes 4000]
    python scripts/train_molecule.py --objective qed --gan-reward pretrained --gan-lambda 0.3 --set env.max_atoms=9
    python scripts/train_molecule.py --objective qed --start-from-gan pretrained --episodes 500

Objectives: qed | plogp (raw penalized logP) | plogp_zinc | sim_plogp (MolDQN's constrained form, similarity to each
episode's start molecule) | multi (--set weights.qed=0.5 ...) | similarity (--set target=SMILES).
Any config value can be set with --config FILE.yml or --set key=value (e.g. --set env.max_atoms=20).
The run directory gets top_molecules.csv (SMILES and every score) and top_molecules.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


from deep_arena.runtime import CheckpointError, RunDir, add_common_args, build_config, resolve_device  # noqa: E402
from deep_arena.runtime.cli import resume_run  # noqa: E402
from deep_arena.runtime.argtypes import finite_float, minutes, positive_int  # noqa: E402

OBJECTIVES = ["qed", "plogp", "plogp_zinc", "sim_plogp", "multi", "similarity", "logp"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["moldqn", "maskable_ppo"], default=None, help="default moldqn")
    parser.add_argument("--objective", choices=OBJECTIVES, default=None, help="default qed")
    parser.add_argument("--episodes", type=positive_int, default=None, help="moldqn: training episodes")
    parser.add_argument("--steps", type=positive_int, default=None, help="maskable_ppo: env steps")
    parser.add_argument("--minutes", type=minutes, default=None, help="wall-clock budget")
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
    add_common_args(parser)
    args = parser.parse_args(argv)

    if args.resume is not None:
        return resume(args, parser)
    algo = args.algo or "moldqn"
    if algo == "maskable_ppo":
        from deep_arena.agents.molecule import ppo as molecule_ppo

        if args.episodes is not None:
            parser.error("--episodes applies to --algo moldqn; use --steps for maskable_ppo")
        try:
            config = build_config(args, molecule_ppo.DEFAULTS, cli_keys=_cli_keys(steps_key="total_steps"))
            molecule_ppo.validate_config(config)
            resolve_device(config["device"])
            _gan_starts(args, config)
            reward_fn = _reward_fn(config)
            molecule_ppo.make_env(config, reward_fn=reward_fn)  # bad SMILES / objectives fail here
        except (ValueError, OSError) as err:
            parser.error(str(err))
        run_dir = _new_run(args, algo, config)
        result = molecule_ppo.train(config, run_dir, progress_bar=not args.no_progress, reward_fn=reward_fn)
        return _report(result, run_dir)

    from deep_arena.agents.moldqn import trainer as dqn

    if args.steps is not None:
        parser.error("--steps applies to --algo maskable_ppo; use --episodes for moldqn")
    try:
        config = build_config(args, dqn.DEFAULTS, cli_keys=_cli_keys(steps_key=None))
        _gan_starts(args, config)
        trainer = dqn.MolDQNTrainer(config, None, reward_fn=_reward_fn(config), progress_bar=not args.no_progress)
    except (ValueError, OSError) as err:  # bad config, SMILES, objective, device, GAN model
        parser.error(str(err))
    trainer.run_dir = _new_run(args, algo, config)
    return _report(trainer.run(), trainer.run_dir)


def _reward_fn(config: dict):
    """The GAN-mixed reward when the config names a GAN critic (ORGAN / ATNC pairing), else None."""
    if not config.get("gan_reward"):
        return None
    from deep_arena.envs.molecule import rewards
    from deep_arena.gan.rewards import DiscriminatorReward, MixedReward

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
    from deep_arena.envs.molecule.chem import EditableMolecule, EditRules
    from deep_arena.gan.rewards import gan_start_smiles

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
    from deep_arena.agents.moldqn import trainer as dqn

    fixed = {"--algo": args.algo, "--objective": args.objective, "--start-smiles": args.start_smiles,
             "--start-file": args.start_file, "--config": args.config, "--steps": args.steps,
             "--gan-reward": args.gan_reward, "--gan-lambda": args.gan_lambda, "--start-from-gan": args.start_from_gan}
    run_dir, ckpt, config = resume_run(
        args, parser, fixed, {"minutes": args.minutes, "episodes": args.episodes}, "--episodes, --minutes",
        no_checkpoint=lambda _: "no checkpoint to resume from (MaskablePPO runs cannot be resumed yet)",
        defaults=dqn.DEFAULTS)
    try:
        trainer = dqn.MolDQNTrainer(config, run_dir, reward_fn=_reward_fn(config), progress_bar=not args.no_progress)
        trainer.load(ckpt)
    except (ValueError, CheckpointError, OSError) as err:
        parser.error(str(err))
    run_dir.write_config(config)
    print(f"resuming {run_dir.path} from {ckpt.name} (episode {trainer.counters['episode']})")
    return _report(trainer.run(), run_dir)


def _report(result: dict, run_dir: RunDir) -> int:
    top = result.get("top") or []
    for rank, (score, smiles) in enumerate(top[:3], 1):
        print(f"top-{rank}: {score:.4f}  {smiles}")
    model = result.get("model_path") or run_dir.path / "model.pt"
    print(f"top molecules: {run_dir.path / 'top_molecules.csv'}   model: {model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
