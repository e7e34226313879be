"""Off-policy learner speed on the arm: sbx's TQC (SB3 in JAX) against sb3-contrib's TQC, both with SB3's
HerReplayBuffer on the same Dict-observation env, at equal network, batch and hyperparameters, in one process.

    python benchmarks/arm_learner_speed.py                      # updates/s and env steps/s, ratio printed (minutes)
    python benchmarks/arm_learner_speed.py --crossq             # sbx's CrossQ as a third learner
    # docs/arm.md's table: --updates 200 --learn-steps 200 --repeats 2 --crossq (about 40 min at load 10-18)
    python benchmarks/arm_learner_speed.py --curve --curve-steps 50000   # + success vs env steps on Push (PNG)

What is measured, each learner on its own freshly filled HER buffer (``--fill`` random-action steps):

* ``updates_per_s_g1``: ``model.train(gradient_steps=1)`` called ``--updates`` times, what ``train_freq=1,
  gradient_steps=1`` (rl-zoo's setting) does after every env step: one HER batch sampled and one critic + actor +
  entropy update;
* ``updates_per_s_g50``: ``model.train(gradient_steps=50)``: 50 updates per call (sbx samples the 50 batches at
  once and runs them in one jitted ``fori_loop``; SB3 loops in Python), what ``train_freq=50, gradient_steps=50``
  does (same updates per env step, once per episode);
* ``env_steps_per_s_utd1`` / ``_utd1_per50``: ``model.learn()`` for ``--learn-steps`` env steps past
  ``learning_starts`` with those two schedules: acting, stepping the env, storing, HER sampling and updating.

Each rate is given per wall-clock second and per CPU second of this process (``time.process_time``, all its
threads): on a machine shared with other jobs the wall-clock rates follow the load, the CPU ones much less. The
learners run in turns (sb3, sbx, sb3, sbx... for ``--repeats`` rounds) and the best round of each counts, so that
the load hits both alike. torch and XLA are held to one thread (``--threads``).
Results: ``benchmarks/results/arm_learner_speed.json`` (and ``arm_learner_curve.png`` / ``.json`` with ``--curve``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# XLA's thread pools are sized when jax is imported: one thread like torch's, unless --threads says otherwise
_THREADS = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--threads=")), 1)
os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen={'true' if _THREADS > 1 else 'false'} "
                                   f"intra_op_parallelism_threads={_THREADS}")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sb3_contrib import TQC  # noqa: E402
from stable_baselines3 import HerReplayBuffer  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

import deep_arena.envs  # noqa: E402,F401  (registers arena/*)

try:
    import sbx  # noqa: E402
except ImportError:  # pragma: no cover - the [fast] extra
    sbx = None

ROOT = Path(__file__).resolve().parent
ENV_IDS = {"reach": "arena/ArmReach-v0", "push": "arena/ArmPush-v0", "pick_and_place": "arena/ArmPickAndPlace-v0"}


def learners(crossq: bool) -> dict:
    if sbx is None:
        sys.exit("sbx is not installed: pip install -e '.[fast]' (or pip install sbx-rl)")
    out = {"sb3-tqc": TQC, "sbx-tqc": sbx.TQC}
    if crossq:
        out["sbx-crossq"] = sbx.CrossQ
    return out


def make_model(cls, args, seed: int, train_freq=1, gradient_steps: int = 1):
    env_id = ENV_IDS[args.task]
    venv = DummyVecEnv([lambda: gym.make(env_id)])
    policy_kwargs = {"net_arch": args.net}
    if cls is not getattr(sbx, "CrossQ", None):
        policy_kwargs["n_critics"] = 2
    kwargs = dict(learning_rate=1e-3, buffer_size=1_000_000, batch_size=args.batch, gamma=0.95,
                  learning_starts=args.fill, train_freq=train_freq, gradient_steps=gradient_steps,
                  replay_buffer_class=HerReplayBuffer,
                  replay_buffer_kwargs={"n_sampled_goal": 4, "goal_selection_strategy": "future"},
                  policy_kwargs=policy_kwargs, verbose=0, seed=seed)
    if cls is not getattr(sbx, "CrossQ", None):
        kwargs["tau"] = 0.05
    return cls("MultiInputPolicy", venv, **kwargs)


def time_updates(model, gradient_steps: int, updates: int) -> tuple[float, float]:
    """(updates per wall second, per CPU second of this process) of ``model.train(gradient_steps)`` (warm-up calls first: jit compilation is not counted; sbx compiles
    one variant per actor-update phase when ``policy_delay`` > 1, as CrossQ's 3 does)."""
    for _ in range(int(getattr(model, "policy_delay", 1) or 1)):
        model.train(gradient_steps=gradient_steps, batch_size=model.batch_size)
    calls = max(1, updates // gradient_steps)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        model.train(gradient_steps=gradient_steps, batch_size=model.batch_size)
    n = calls * gradient_steps
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def time_learn(cls, args, train_freq, gradient_steps: int, seed: int) -> tuple[float, float]:
    """(env steps per wall second, per CPU second) of ``learn()`` past ``learning_starts`` (the fill and the first compile are not counted)."""
    model = make_model(cls, args, seed, train_freq=train_freq, gradient_steps=gradient_steps)
    model.learn(args.fill + 100)  # fill, then the first updates (jit compilation)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(args.learn_steps, reset_num_timesteps=False)
    return args.learn_steps / (time.perf_counter() - start), args.learn_steps / (time.process_time() - cpu)


def speed(args) -> dict:
    table = {name: {} for name in learners(args.crossq)}
    for round_ in range(args.repeats):
        for name, cls in learners(args.crossq).items():
            model = make_model(cls, args, seed=round_)
            model.learn(args.fill)  # random actions (learning_starts) into the HER buffer
            row = {}
            for key, (wall, cpu) in (("updates_per_s_g1", time_updates(model, 1, args.updates)),
                                     ("updates_per_s_g50", time_updates(model, 50, args.updates * 2))):
                row[key], row[key.replace("_per_s_", "_per_cpu_s_")] = wall, cpu
            if args.learn_steps:
                for key, sched in (("env_steps_per_s_utd1", 1), ("env_steps_per_s_utd1_per50", 50)):
                    wall, cpu = time_learn(cls, args, sched, sched, round_)
                    row[key], row[key.replace("_per_s_", "_per_cpu_s_")] = wall, cpu
            for key, value in row.items():
                table[name][key] = max(value, table[name].get(key, 0.0))
            print(f"round {round_ + 1}: {name:10s} " + "  ".join(f"{k} {v:7.1f}" for k, v in row.items()),
                  flush=True)
    return table


def evaluate(model, env_id: str, episodes: int, seed: int) -> float:
    env = gym.make(env_id)
    wins = 0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done, info = False, {}
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        wins += bool(info.get("is_success", False))
    env.close()
    return wins / episodes


def curve(args) -> dict:
    """Success rate (``--eval-episodes`` seeded episodes, deterministic) against env steps for each learner, trained
    one after the other with rl-zoo's schedule (``train_freq=1, gradient_steps=1``) from sparse reward alone."""
    env_id = ENV_IDS[args.curve_task]
    out = {}
    for name, cls in learners(args.crossq).items():
        if args.curve_learners and name not in args.curve_learners:
            continue
        model = make_model(cls, argparse.Namespace(**{**vars(args), "task": args.curve_task, "fill": 1000}),
                           seed=args.seed)
        points, start = [], time.perf_counter()
        while model.num_timesteps < args.curve_steps:
            model.learn(args.eval_every, reset_num_timesteps=False)
            wall = time.perf_counter() - start
            success = evaluate(model, env_id, args.eval_episodes, seed=1_000_000)
            start += time.perf_counter() - start - wall  # the evaluation is not training time
            points.append({"steps": int(model.num_timesteps), "success": success, "wall_s": wall})
            print(f"{name:10s} {model.num_timesteps:7d} steps  success {success:.2f}  {wall:7.0f} s", flush=True)
            out[name] = points
            _save_curve(args, out)
    return out


def _save_curve(args, out: dict) -> None:
    import matplotlib  # lazy: only the --curve option draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above

    json_path = args.out.with_name("arm_learner_curve.json")
    json_path.write_text(json.dumps({"task": args.curve_task, "net": args.net, "batch": args.batch,
                                     "curves": out}, indent=1) + "\n")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, points in out.items():
        steps = [p["steps"] for p in points]
        axes[0].plot(steps, [p["success"] for p in points], marker="o", label=name)
        axes[1].plot([p["wall_s"] / 60 for p in points], [p["success"] for p in points], marker="o", label=name)
    axes[0].set_xlabel("env steps")
    axes[1].set_xlabel("training minutes (this machine)")
    for ax in axes:
        ax.set_ylabel(f"success ({args.eval_episodes} episodes)")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{ENV_IDS[args.curve_task]}, sparse reward, HER, net {args.net}, batch {args.batch}")
    fig.tight_layout()
    fig.savefig(args.out.with_name("arm_learner_curve.png"), dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=tuple(ENV_IDS), default="push")
    parser.add_argument("--net", type=lambda s: [int(x) for x in s.split(",")], default=[256, 256],
                        help="hidden layers of actor and critics (default 256,256: the arm's CPU setting)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--fill", type=int, default=2000, help="random-action steps into the buffer first")
    parser.add_argument("--updates", type=int, default=300, help="updates timed per learner and round")
    parser.add_argument("--learn-steps", type=int, default=300, help="learn() steps timed (0: skip)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=_THREADS, help="torch and XLA threads (give as --threads=N)")
    parser.add_argument("--crossq", action="store_true", help="also sbx's CrossQ (no target nets, batch renorm)")
    parser.add_argument("--curve", action="store_true", help="also success vs env steps (long: hours on a CPU)")
    parser.add_argument("--curve-task", choices=tuple(ENV_IDS), default="push")
    parser.add_argument("--curve-steps", type=int, default=50_000)
    parser.add_argument("--curve-learners", nargs="*", default=None, help="subset, e.g. sbx-tqc")
    parser.add_argument("--eval-every", type=int, default=5_000)
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-speed", action="store_true", help="only the curve")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "arm_learner_speed.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.skip_speed:
        table = speed(args)
        base = table["sb3-tqc"]
        for unit in ("s", "cpu_s"):
            print(f"\nper {'wall second' if unit == 's' else 'CPU second of this process'}:")
            print(f"{'learner':12s} {'updates g1':>11s} {'g50':>8s} {'env steps utd1':>15s} {'per50':>8s}")
            for name, row in table.items():
                print(f"{name:12s} " + " ".join(f"{row.get(k.format(unit), float('nan')):{w}.1f}" for k, w in
                                                (("updates_per_{}_g1", 11), ("updates_per_{}_g50", 8),
                                                 ("env_steps_per_{}_utd1", 15), ("env_steps_per_{}_utd1_per50", 8))))
        ratios = {name: {k: row[k] / base[k] for k in row} for name, row in table.items() if name != "sb3-tqc"}
        for name, r in ratios.items():
            print(f"ratio {name} / sb3-tqc: " + "  ".join(f"{k} {v:.2f}x" for k, v in r.items()))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "task": args.task, "net": args.net, "batch": args.batch, "threads": args.threads, "fill": args.fill,
            "updates": args.updates, "learn_steps": args.learn_steps, "repeats": args.repeats,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
            "versions": {"torch": torch.__version__, "sbx": getattr(sbx, "__version__", None),
                         "jax": sys.modules["jax"].__version__ if "jax" in sys.modules else None},
            "learners": table, "ratio_to_sb3_tqc": ratios}, indent=1) + "\n")
        print(f"wrote {args.out}")
    if args.curve:
        curve(args)
        print(f"wrote {args.out.with_name('arm_learner_curve.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
