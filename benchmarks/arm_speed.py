"""Env steps per second of the Deep Arena arm against Gymnasium-Robotics Fetch and panda-gym, in one run.

Every env is driven by the same loop, in its own process, on one core: ``gym.make(id)``, ``reset(seed=0)``, then
``step`` with uniformly random actions (drawn beforehand with NumPy, so the loop times the env and not
``action_space.sample()``), ``reset`` whenever an episode ends (the 50-step TimeLimit). All run at 25 Hz control:
ours 0.004 s × 10 substeps by default (and 0.002 s × 20, Fetch's integration, as an extra row), Fetch 0.002 s × 20,
panda-gym 1/500 s × 20. Each measurement runs ``--seconds`` (default 10) and is repeated ``--repeats`` times
(default 3); the best is reported.

The peers need their own virtual environments (Fetch needs mujoco 3.11, panda-gym needs PyBullet):

    python3 -m venv /work/peer-venvs/fetch && /work/peer-venvs/fetch/bin/pip install gymnasium-robotics mujoco==3.11.0
    python3 -m venv /work/peer-venvs/panda && /work/peer-venvs/panda/bin/pip install panda-gym

and are found through ``--fetch-python`` / ``--panda-python`` (or ARENA_FETCH_PYTHON / ARENA_PANDA_PYTHON). A peer
that is missing is reported with these instructions and skipped.

    python benchmarks/arm_speed.py [--seconds 10] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r"""
import json, os, sys, time
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import numpy as np, gymnasium as gym
module, env_id, seconds, kwargs = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
if module == "envs":
    import deep_arena.envs  # the project venv has it installed
elif module == "gymnasium_robotics":
    import gymnasium_robotics
    gym.register_envs(gymnasium_robotics)
else:
    import panda_gym
env = gym.make(env_id, **kwargs)
env.reset(seed=0)
space = env.action_space
actions = np.random.default_rng(0).uniform(space.low, space.high, (4096,) + space.shape).astype(space.dtype)
for i in range(200):  # warm up (JIT caches, first contacts)
    *_, term, trunc, _ = env.step(actions[i])
    if term or trunc:
        env.reset()
steps, start = 0, time.perf_counter()
while True:
    for i in range(500):
        *_, term, trunc, _ = env.step(actions[(steps + i) & 4095])
        if term or trunc:
            env.reset()
    steps += 500
    elapsed = time.perf_counter() - start
    if elapsed >= seconds:
        break
print(json.dumps({"steps_per_s": steps / elapsed}))
"""

PEER_HELP = {
    "fetch": "python3 -m venv /work/peer-venvs/fetch && /work/peer-venvs/fetch/bin/pip install gymnasium-robotics "
             "mujoco==3.11.0 (or pass --fetch-python PATH)",
    "panda": "python3 -m venv /work/peer-venvs/panda && /work/peer-venvs/panda/bin/pip install panda-gym "
             "(or pass --panda-python PATH)",
}


def measure(python: str, module: str, env_id: str, seconds: float, kwargs: dict | None = None) -> float:
    cmd = [python, "-c", WORKER, module, env_id, str(seconds), json.dumps(kwargs or {}), ROOT]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds * 10 + 120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"]


def peer_python(path: str) -> str | None:
    return path if path and os.path.exists(path) else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one measurement (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per env; the best is kept (default 3)")
    parser.add_argument("--quick", action="store_true", help="2 s × 1 repeat: a smoke run, not for the README")
    parser.add_argument("--fetch-python", default=os.environ.get("ARENA_FETCH_PYTHON",
                                                                 "/work/peer-venvs/fetch/bin/python"))
    parser.add_argument("--panda-python", default=os.environ.get("ARENA_PANDA_PYTHON",
                                                                 "/work/peer-venvs/panda/bin/python"))
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 2.0, 1

    fetch, panda = peer_python(args.fetch_python), peer_python(args.panda_python)
    rows = [  # (label, python, module, env id, kwargs, task)
        ("arena ArmReach-v0", sys.executable, "envs", "arena/ArmReach-v0", {}, "reach"),
        ("arena ArmPush-v0", sys.executable, "envs", "arena/ArmPush-v0", {}, "push"),
        ("arena ArmPush-v0, 0.002 s × 20", sys.executable, "envs", "arena/ArmPush-v0",
         {"timestep": 0.002, "substeps": 20}, "push-fine"),
        ("Fetch FetchReach-v4", fetch, "gymnasium_robotics", "FetchReach-v4", {}, "reach"),
        ("Fetch FetchPush-v4", fetch, "gymnasium_robotics", "FetchPush-v4", {}, "push"),
        ("panda-gym PandaReach-v3", panda, "panda_gym", "PandaReach-v3", {}, "reach"),
        ("panda-gym PandaPush-v3", panda, "panda_gym", "PandaPush-v3", {}, "push"),
    ]
    results: dict[str, float | None] = {}
    for label, python, module, env_id, kwargs, _ in rows:
        if python is None:
            peer = "fetch" if module == "gymnasium_robotics" else "panda"
            print(f"{label:34s} peer not installed: {PEER_HELP[peer]}", flush=True)
            results[label] = None
            continue
        best = 0.0
        try:
            for _ in range(args.repeats):
                best = max(best, measure(python, module, env_id, args.seconds, kwargs))
        except Exception as err:  # noqa: BLE001 (a broken peer is reported, not fatal)
            print(f"{label:34s} failed: {err}", flush=True)
            results[label] = None
            continue
        results[label] = best
        print(f"{label:34s} {best:9,.0f} steps/s", flush=True)

    print(f"\nbest of {args.repeats} × {args.seconds:g} s, random actions, one process each; "
          f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("\n| task | arena (steps/s) | Fetch | ratio | panda-gym | ratio |")
    print("|---|---|---|---|---|---|")
    for task, ours, fetch_label, panda_label in [
            ("Reach", "arena ArmReach-v0", "Fetch FetchReach-v4", "panda-gym PandaReach-v3"),
            ("Push", "arena ArmPush-v0", "Fetch FetchPush-v4", "panda-gym PandaPush-v3"),
            ("Push, ours at 0.002 s × 20", "arena ArmPush-v0, 0.002 s × 20", "Fetch FetchPush-v4",
             "panda-gym PandaPush-v3")]:
        mine = results.get(ours)
        cells = [task, f"{mine:,.0f}" if mine else "–"]
        for peer in (fetch_label, panda_label):
            theirs = results.get(peer)
            cells += [f"{theirs:,.0f}" if theirs else "n/a",
                      f"**{mine / theirs:.1f}×**" if mine and theirs else "–"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
