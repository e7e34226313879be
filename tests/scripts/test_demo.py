"""`make demo`'s closing hints are real commands: every one names an installed entry point with the venv's prefix,
the run directory the job made, and parses with its command's own parser."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from deep_arena.agents.arm import commands as arm_commands, play as arm_play
from deep_arena.agents.go import commands as go_commands, play as go_play
from deep_arena.agents.molecule import commands as molecule_commands, play as molecule_play
from deep_arena.scripts import demo, evaluate, gtp

REPO = Path(__file__).resolve().parents[2]

PARSERS = {
    ("arena-evaluate", "go"): go_commands.evaluate_parser, ("arena-evaluate", "arm"): arm_commands.evaluate_parser,
    ("arena-evaluate", "molecule"): molecule_commands.evaluate_parser, ("arena-play", "go"): go_play.play_parser,
    ("arena-play", "arm"): arm_play.play_parser, ("arena-play", "molecule"): molecule_play.play_parser,
}


def _hints(run: Path) -> list[list[str]]:
    return [shlex.split(line) for line in demo.closing_hints([(job, run) for job in demo.demo_jobs()], ".venv/bin/")]


def test_every_job_has_hints_and_they_name_its_run(tmp_path):
    assert all(job.hints for job in demo.demo_jobs())
    hints = _hints(Path("runs/go/alphazero-20261206-120000"))
    assert all(h[0].startswith(".venv/bin/") for h in hints)
    assert not any("<" in arg for h in hints for arg in h)  # no placeholders such as <moldqn run>
    assert sum("runs/go/alphazero-20261206-120000" in " ".join(h) for h in hints) >= len(demo.demo_jobs())


@pytest.mark.parametrize("hint", _hints(Path("runs/x/run")), ids=lambda h: " ".join(h[:3]))
def test_every_hint_parses(hint):
    command = Path(hint[0]).name
    assert (Path(sys.executable).parent / command).exists(), f"{command} is not an installed entry point"
    if command == "tensorboard":
        return
    if command == "arena-gtp":
        gtp.parse_args(hint[1:])
    elif command == "arena-evaluate" and hint[1] in evaluate.GAN_COMMANDS:
        evaluate.build_gan_parser().parse_args(hint[1:])
    else:
        PARSERS[command, hint[1]]().parse_args(hint[2:])


def _demo_config(argv: tuple[str, ...]) -> tuple[str, dict]:
    """(family/algo, the config a step- or episode-budgeted demo job trains with: its defaults, then its --set
    values), without running it."""
    from deep_arena.runtime.config import apply_overrides

    sets = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--set"]
    flag = dict(zip(argv, argv[1:]))
    family, algo = argv[0], flag.get("--algo")
    if family == "arm":
        from deep_arena.agents.arm.config import default_config

        return "arm", apply_overrides(default_config(flag["--task"], algo or "tqc"), sets)
    if (family, algo) == ("go", "maskable_ppo"):
        from deep_arena.agents.go.ppo_config import default_config

        return "ppo", apply_overrides(default_config(), sets)
    if (family, algo) == ("molecule", "maskable_ppo"):
        from deep_arena.agents.molecule.ppo_config import DEFAULTS

        return "ppo", apply_overrides(DEFAULTS, sets)
    if (family, algo) == ("molecule", "moldqn"):
        from deep_arena.agents.moldqn.config import MolDQNSettings

        return "moldqn", apply_overrides(MolDQNSettings.defaults(), sets)
    if argv[:2] == ("gan", "molecules"):
        from deep_arena.gan.config import MolGANSettings

        return "molgan", apply_overrides(MolGANSettings.defaults(), sets)
    return "timed", {}  # a minutes budget (AlphaZero) or the tabular GAN: points measured, not derived


@pytest.mark.parametrize("job", demo.demo_jobs(), ids=lambda job: " ".join(job.argv[:3]))
def test_budgeted_demo_jobs_log_at_least_ten_points(job):
    """Issue 21: every demo job shows curves, not dots. For the jobs with a step or episode budget the points follow
    from the budget and the intervals; the timed one was measured (AlphaZero 5x5, 8 games at a time, 32 positions an
    iteration, one thread: 16 iterations in its 2 minutes on a 2-core machine at load 14)."""
    kind, config = _demo_config(job.argv)
    flag = dict(zip(job.argv, job.argv[1:]))
    if kind == "arm":
        assert int(flag["--steps"]) // config["eval_every"] >= 10  # eval/success_rate, eval/mean_return
    elif kind == "ppo":
        steps = int(flag["--steps"])
        assert steps // config["eval_every"] >= 10  # eval/*
        assert steps // (config["n_envs"] * config["ppo"]["n_steps"]) >= 10  # rollout/*, train/*: one per rollout
    elif kind == "moldqn":
        assert int(flag["--episodes"]) // config["log_every"] >= 10  # episode/*, train/loss, top/*
    elif kind == "molgan":
        assert "--minutes" not in flag  # a time budget gives a busy machine fewer points
        molecules = sum(1 for line in (REPO / flag["--dataset"]).read_text().splitlines() if line.strip())
        steps_per_epoch = molecules // (config["batch_size"] * config["wgan"]["n_critic"])  # as gan.trainer counts
        assert float(flag["--epochs"]) * steps_per_epoch // config["log_every"] >= 10  # gan/*
    else:
        assert "--minutes" in flag or "--epochs" in flag
