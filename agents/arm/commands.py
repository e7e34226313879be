"""Train SAC, TD3, TQC (with or without HER), PPO, or sbx's TQC / SAC in JAX (sbx_tqc, sbx_sac: the [fast] extra)
on the robot arm; logs to runs/arm/<algo>-<time>/.

    python scripts/train_arm.py --task reach --algo tqc --her --steps 20000 --set threads=1
    python scripts/train_arm.py --task push --algo tqc --her --steps 1000000 --minutes 60
    python scripts/train_arm.py --task reach --algo ppo --reward-type dense --steps 200000
    python scripts/train_arm.py --resume runs/arm/tqc-20261125-210000 [--steps 40000 (more)]
    python scripts/train_arm.py --task reach --curriculum goalgan --goal-space wide --steps 10000

--curriculum goalgan draws each training episode's goal from a Goal GAN (gan.goalgan; settings with
--set goalgan.KEY=VALUE) instead of uniformly from the goal box; --goal-space wide widens that box. With either,
every evaluation also measures coverage (eval/coverage: the fraction of a fixed grid of test goals reached,
--coverage N points per axis, saved in coverage.npz) and a curriculum logs curriculum/* scalars and a goal scatter.

Hyperparameters: agents/hyperparams/<algo>.yml, keyed by env id (the off-policy entries turn HER on; --no-her turns
it off). Any config value can be set with --config FILE.yml or --set key=value (e.g. --set model.batch_size=512
--set model.policy_kwargs.net_arch=[128,128] --set threads=1 --set eval_episodes=50). Watch with
`tensorboard --logdir runs` (eval/success_rate, eval/frames); the run directory gets config.yml, command.txt,
evaluations.npz, checkpoints/ (the newest keep_checkpoints models, default 3, and the newest replay buffer,
holding only the transitions stored) and final_model.zip.

Ctrl-C (or SIGTERM) stops at the next step: a checkpoint and final_model.zip are saved, the command that continues
the run is printed, and the exit status is 130. --resume with no budget flag finishes the run's saved plan; with
--steps N or --minutes M it trains that much more (the saved time limit is dropped unless --minutes is given).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from deep_arena.agents.arm.outputs import plot_coverage, plot_final_distances, summarize, summary_line
from deep_arena.agents.stats import wilson_interval
from deep_arena.runtime import RunDir, add_common_args, build_config, load_config, resolve_device, was_given
from deep_arena.runtime.argtypes import device, minutes, positive_int
from deep_arena.runtime.checkpoint import folder_size_text
from deep_arena.runtime.cli import RESUME_RULE, add_output_args, evaluation_dir, resume_budget, resume_run, seed_arg
from deep_arena.runtime.interrupts import report_interrupted
from deep_arena.runtime.tb import log_result_hparams
from deep_arena.runtime.trainer import RunResult

TASKS = ("reach", "push", "pick_and_place")
ALGOS = ("sac", "tqc", "td3", "ppo", "sbx_tqc", "sbx_sac")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arena-train arm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=TASKS, default=None, help="default reach")
    parser.add_argument("--algo", choices=ALGOS, default=None, help="default tqc")
    parser.add_argument("--her", action=argparse.BooleanOptionalAction, default=None,
                        help="hindsight experience replay (off-policy only; the shipped yml turns it on for them)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help=f"total env steps (default from the yml); {RESUME_RULE}")
    parser.add_argument("--minutes", type=minutes, default=None,
                        help="wall-clock budget on top of --steps (training stops at whichever comes first; it "
                             f"counts the run's training time); {RESUME_RULE}")
    parser.add_argument("--reward-type", choices=("sparse", "dense"), default=None, help="default sparse")
    parser.add_argument("--control", choices=("ee", "joint"), default=None, help="default ee (end effector)")
    parser.add_argument("--curriculum", choices=("none", "goalgan"), default=None,
                        help="goal source of training episodes: none (uniform in the goal box, default) or goalgan")
    parser.add_argument("--goal-space", choices=("default", "wide"), default=None,
                        help="goal box of the env (default: default); wide is the curriculum benchmark's")
    parser.add_argument("--coverage", type=int, default=None, metavar="N",
                        help="coverage test grid points per axis (default 4 with a curriculum or wide goals; 0 off)")
    parser.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                        help="continue a run from its last checkpoint (model, replay buffer, step count, time "
                             "spent)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--video", action="store_true",
                        help="record the first episode of each evaluation: TensorBoard eval/video and "
                             "RUN_DIR/videos/eval_<step>.mp4")
    add_common_args(parser)
    return parser


CLI_KEYS = {"her": "her", "total_steps": "steps", "minutes": "minutes", "reward_type": "reward_type",
            "control": "control", "coverage_per_axis": "coverage"}


def build_curriculum(config: dict):
    """The Goal GAN curriculum the config asks for (None without one), over a throwaway env's goal box."""
    if not config["curriculum"]:
        return None
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 and the GAN only when needed
    from deep_arena.gan.goalgan import GoalGANCurriculum  # lazy: torch, only with --curriculum goalgan

    env = arm.make_env(config)
    try:
        return GoalGANCurriculum.for_env(env, config["goalgan"], seed=config["seed"])
    finally:
        env.close()


def train(argv: Sequence[str] | None = None) -> int:
    """``arena-train arm ...``"""
    # Headless MuJoCo rendering (evaluation frame strips) needs this before mujoco is imported; set here, not at
    # import, so that importing this module (the registry does) leaves a viewer's display settings alone.
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    parser = build_parser()
    args = parser.parse_args(argv)
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 only when the arm trains

    if args.resume is not None:
        return resume(args, parser)
    task, algo = args.task or "reach", args.algo or "tqc"
    try:
        config = build_config(args, arm.default_config(task, algo), cli_keys=CLI_KEYS, schema=arm.DEFAULTS)
        if args.curriculum is not None:
            config["curriculum"] = None if args.curriculum == "none" else args.curriculum
        if args.goal_space is not None:
            config["env_kwargs"] = {**config["env_kwargs"], "goal_space": args.goal_space}
        if args.video:
            config["video"] = True
        if config["task"] != task or config["algo"] != algo:
            raise ValueError("task and algo are chosen with --task and --algo (the hyperparameters depend on them), "
                             "not with --config or --set")
        arm.validate_config(config)
        resolve_device(config["device"])
        curriculum = build_curriculum(config)
    except ValueError as err:  # unknown --set key, bad --config file, ppo + her, no CUDA, bad goalgan setting...
        parser.error(str(err))
    # Everything that can fail on bad input has happened before the run directory exists.
    run_dir = RunDir.create("arm", algo, root=args.run_root)
    run_dir.write_config(config)
    run_dir.write_command(None if argv is None else ["scripts/train_arm.py", *argv])
    print(f"run directory: {run_dir.path}")
    trainer = arm.ArmTrainer(config, run_dir, progress_bar=not args.no_progress, curriculum=curriculum)
    return _finish(trainer.run())


def resume(args, parser) -> int:
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 only when the arm trains
    from deep_arena.agents.sb3.models import saved_progress  # lazy: SB3 only when the arm trains

    fixed = {"--task": args.task, "--algo": args.algo, "--her": args.her, "--reward-type": args.reward_type,
             "--control": args.control, "--config": args.config, "--curriculum": args.curriculum,
             "--goal-space": args.goal_space, "--coverage": args.coverage}
    changes = {"seed": args.seed if was_given(args, "seed") else None}  # the budget: resume_budget below
    # The newest model that has its replay buffer beside it (see arm.latest_model_checkpoint).
    # The saved config is laid over today's defaults: a run saved before a setting existed resumes with its default.
    run_dir, ckpt, config = resume_run(
        args, parser, fixed, changes, "--steps, --minutes, --seed", find_checkpoint=arm.latest_model_checkpoint,
        no_checkpoint=lambda _: "no checkpoint to resume from (checkpoints/model_*.zip)", defaults=arm.DEFAULTS)
    try:
        if not {"task", "algo"} <= set(load_config(run_dir.config_path)):
            raise ValueError(f"{run_dir.config_path} has no task/algo: not a train_arm.py run")
        arm.validate_config(config)
        resolve_device(config["device"])
        arm.saved_algo(ckpt)  # a readable SB3 zip
        steps, seconds = saved_progress(ckpt)
        line = resume_budget(config, run_dir, ckpt, key="total_steps", flag="--steps", unit="env step", done=steps,
                             given=args.steps, seconds_done=seconds, given_minutes=args.minutes)
        trainer = arm.ArmTrainer(config, run_dir, progress_bar=not args.no_progress,
                                 curriculum=build_curriculum(config))
        trainer.load(ckpt)  # model, replay buffer, curriculum (a corrupt curriculum file fails here, named)
    except ValueError as err:
        parser.error(str(err))
    run_dir.write_config(config)
    print(line, flush=True)
    return _finish(trainer.run())


def _finish(run: RunResult) -> int:
    from deep_arena.agents.sb3.checkpoints import latest_model_checkpoint  # lazy: SB3 only when the arm trains

    if run.stopped_by == "interrupt":
        print(f"run directory: {run.run_dir} ({folder_size_text(run.run_dir)})")
        return report_interrupted(run.run_dir, ["arena-train", "arm", "--resume", str(run.run_dir)],
                                  saved=[latest_model_checkpoint(run.run_dir / "checkpoints"), run.model_path])
    log_result_hparams(run)  # TensorBoard's HParams tab: settings (the run's config.yml) and final metrics
    result = run.details
    k = round(result["success_rate"] * result["episodes"])
    lo, hi = wilson_interval(k, result["episodes"])
    print(f"after {result['steps']} steps: success rate {result['success_rate']:.2f} "
          f"(95% CI {lo:.2f}-{hi:.2f}, {result['episodes']} episodes), mean return {result['mean_return']:.2f}, "
          f"mean final distance {result['mean_final_distance']:.3f} m")
    if "coverage" in result:
        print(f"coverage: {result['coverage']:.3f} of {result['coverage_goals']} test goals reached")
    print(f"model: {run.model_path}   evaluations: {run.run_dir / 'evaluations.npz'}")
    print(f"run directory: {run.run_dir} ({folder_size_text(run.run_dir)})")
    return 0


# ---------------------------------------------------------------------------------------------------------------
# evaluation


ARM_TASKS = ("reach", "push", "pick_and_place")


def evaluate_parser() -> argparse.ArgumentParser:
    arm = argparse.ArgumentParser(prog="arena-evaluate arm",
                                  description="Evaluate a robot-arm policy saved by arena-train arm (SAC, TD3, TQC or "
                                              "PPO .zip) or a shipped one (pretrained): success rate with a 95% "
                                              "interval, mean return and final distance.")
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
    add_output_args(arm, "arm")
    return arm


def evaluate(argv: Sequence[str] | None = None) -> int:
    """``arena-evaluate arm ...``"""
    return run_evaluation(evaluate_parser().parse_args(argv))


def run_evaluation(args: argparse.Namespace) -> int:
    os.environ.setdefault("MUJOCO_GL", "egl")
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 and MuJoCo, only when a model is evaluated

    env = None
    try:
        path, env_config = arm.resolve_model(args.model, args.task, args.reward_type, args.control)
        if args.goal_space is not None:
            env_config["env_kwargs"] = {**env_config["env_kwargs"], "goal_space": args.goal_space}
        env = arm.make_env(env_config)
        model = arm.load_model(path, device=args.device, env=env)
        out = evaluation_dir(args, "arm")
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
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 and MuJoCo, only when a model is evaluated

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
