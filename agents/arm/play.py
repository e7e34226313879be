"""Watch a trained robot-arm policy in a window showing MuJoCo's 3-D view (``arena-play arm``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from deep_arena.runtime.argtypes import int_in_range, positive_int
from deep_arena.runtime.display import (FrameSaver, NoDisplayError, add_save_frames, display_problem, no_window,
                                        open_window, software_framebuffer)

ARM_HINT = "Evaluate headless with arena-evaluate arm."


def play_parser() -> argparse.ArgumentParser:
    arm = argparse.ArgumentParser(
        prog="arena-play arm",
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
    software_framebuffer()
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 and MuJoCo (--help), after MUJOCO_GL is set
    import pygame  # lazy: a display library, only when a window opens (the registry imports this module for --help)

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
    saver = FrameSaver(args.save_frames, parser, args.record, args.record_fps)
    try:
        open_window((args.size, args.size), "Deep Arena: robot arm", ARM_HINT)
    except NoDisplayError as err:
        env.close()
        saver.close()
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
        saver.close()
    saver.report()
    return 0


def play(argv: Sequence[str] | None = None) -> int:
    """``arena-play arm ...``"""
    args = play_parser().parse_args(argv)
    return args.run(args)
