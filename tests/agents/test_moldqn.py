"""MolDQN: a tiny run end to end, resume (an old run's config.yml too), bootstrap targets, outputs, loading, typed
settings and config errors."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np
import pytest
import torch
import yaml
from rdkit import Chem

from deep_arena.agents.moldqn.config import MolDQNSettings
from deep_arena.agents.moldqn.player import MolDQNPolicy
from deep_arena.agents.moldqn.trainer import DEFAULTS, MolDQNTrainer, validate_config
from deep_arena.agents.molecule import commands
from deep_arena.runtime import COMMON_DEFAULTS, CheckpointError, RunDir, deep_merge, merge_config
from deep_arena.runtime.trainer import RunResult, Trainer


def tiny_config(**changes):
    cfg = deep_merge(COMMON_DEFAULTS, DEFAULTS)
    cfg.update({"episodes": 4, "learning_starts": 8, "batch_size": 8, "checkpoint_every": 2, "log_every": 1,
                "threads": 1, "replay_capacity": 200})
    cfg["env"].update({"max_atoms": 8, "max_steps": 5, "fp_bits": 64})
    cfg["net"].update({"hidden": [32, 16]})
    cfg.update(changes)
    return cfg


def test_tiny_run_outputs_and_resume(tmp_path):
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    trainer = MolDQNTrainer(tiny_config(), run_dir, progress_bar=False)
    result = trainer.run()
    assert isinstance(trainer, Trainer) and isinstance(result, RunResult) and result.stopped_by == "budget"
    assert result.counters == {"episodes": 4, "env_steps": 20, "updates": trainer.counters["updates"]}
    assert trainer.counters["updates"] > 0
    best = trainer.top.best()
    assert result.details["top"] == best and result.details["episodes"] == 4
    assert result.metrics == {f"top{k}": best[k - 1][0] for k in range(1, min(3, len(best)) + 1)}
    assert result.run_dir == run_dir.path and result.model_path == run_dir.path / "model.pt"
    rows = list(csv.DictReader(open(run_dir.path / "top_molecules.csv")))
    assert rows and {"smiles", "objective", "qed", "plogp", "sa"} <= set(rows[0])
    assert all(Chem.MolFromSmiles(r["smiles"]) is not None for r in rows)
    assert (run_dir.path / "top_molecules.png").stat().st_size > 0
    assert (run_dir.path / "model.pt").is_file()
    # Resume: counters, replay and top molecules continue.
    again = MolDQNTrainer(tiny_config(episodes=6), run_dir, progress_bar=False)
    again.load(run_dir.latest_checkpoint())
    assert again.counters["episode"] == 4 and again.replay.size == trainer.replay.size
    assert again.top.best() == trainer.top.best()
    assert again.run().counters["episodes"] == 6 and again.counters["env_steps"] == 30


def test_old_checkpoints_are_pruned_to_the_newest_few(tmp_path):
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    MolDQNTrainer(tiny_config(episodes=10, checkpoint_every=1, keep_checkpoints=2), run_dir, progress_bar=False).run()
    assert sorted(p.name for p in run_dir.checkpoints_dir.iterdir()) == ["checkpoint_000000009.pt",
                                                                          "checkpoint_000000010.pt"]
    every = RunDir.create("molecule", "moldqn", root=tmp_path / "all")
    MolDQNTrainer(tiny_config(episodes=3, checkpoint_every=1, keep_checkpoints=None), every, progress_bar=False).run()
    assert len(list(every.checkpoints_dir.iterdir())) == 3


def test_an_old_runs_config_yml_resumes_with_the_newer_settings_defaulted(tmp_path, capsys):
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    MolDQNTrainer(tiny_config(episodes=2, device="cpu"), run_dir, progress_bar=False).run()
    # config.yml as the first MolDQN runs wrote it: no env.reward_mode, target_values, epsilon.mid, restart,
    # gan_reward or gan_lambda yet
    old = {"device": "cpu", "seed": 0, "objective": "qed", "delta": 0.4, "target": None, "weights": None,
           "start_smiles": "C", "start_file": None, "episodes": 2, "minutes": None,
           "env": {"atom_types": ["C", "N", "O"], "valences": {}, "ring_sizes": [5, 6], "max_atoms": 8,
                   "max_steps": 5, "fp_radius": 3, "fp_bits": 64, "discount": 0.9},
           "net": {"hidden": [32, 16], "heads": 1}, "gamma": 1.0, "lr": 1.0e-4, "batch_size": 8,
           "replay_capacity": 200, "learning_starts": 8, "train_every": 2, "polyak": 0.995, "grad_clip": 10.0,
           "epsilon": {"start": 1.0, "end": 0.01, "decay_fraction": 0.5}, "bootstrap_mask_prob": 0.5,
           "allow_stop": False, "top_k": 10, "log_every": 1, "checkpoint_every": 2, "threads": 1}
    run_dir.config_path.write_text(yaml.safe_dump(old))
    assert commands.train(["--resume", str(run_dir.path), "--episodes", "1", "--no-progress"]) == 0  # 1 more
    out = capsys.readouterr().out
    assert "at episode 2 (" in out and "training to episode 3 (--episodes 1 more)" in out
    assert "stopped by budget after episodes 3, env_steps 15" in out and "top-1: " in out
    saved = yaml.safe_load(run_dir.config_path.read_text())   # rewritten whole: every setting named
    assert saved == MolDQNSettings.from_dict(saved).to_dict() == deep_merge(DEFAULTS, old) | {"episodes": 3}
    assert saved["target_values"] == "collection" and saved["env"]["reward_mode"] == "every_step"
    assert saved["restart"] == {"prob": 0.0, "elites": 10} and saved["epsilon"]["mid"] is None
    # An unknown key in a saved config is still an error, named.
    run_dir.config_path.write_text(yaml.safe_dump(old | {"learning_rate": 0.1}))
    with pytest.raises(SystemExit):
        commands.train(["--resume", str(run_dir.path), "--episodes", "4", "--no-progress"])
    assert "learning_rate" in capsys.readouterr().err


def test_settings_are_the_defaults_and_the_checks():
    assert DEFAULTS == MolDQNSettings.defaults() and DEFAULTS["env"]["reward_mode"] == "every_step"
    config = merge_config(DEFAULTS, overrides=[])
    validate_config(config)
    for override, message in (["lr=0", "lr must be a positive number, got 0"],
                              ["learning_starts=-1", "learning_starts must be an integer >= 0, got -1"],
                              ["threads=0", "threads must be a positive integer, got 0"],
                              ["minutes=0", "minutes must be a positive number, got 0"],
                              ["net.heads=0", "net.heads must be a positive integer, got 0"],
                              ["net.hidden=[]", "net.hidden must be a non-empty list of positive integers"],
                              ["polyak=1.5", "polyak must be a number in [0, 1], got 1.5"],
                              ["restart.elites=0", "restart.elites must be a positive integer, got 0"],
                              ["epsilon.decay_fraction=0", "epsilon.decay_fraction must be a number in (0, 1]"],
                              ["objective=qdd", "objective must be one of 'qed', "],
                              ["objective=similarity", "target must be a SMILES for objective 'similarity'"],
                              ["env.reward_mode=last", "env.reward_mode must be one of 'every_step', 'final'"],
                              ["env.max_atoms=1", "env.max_atoms must be from 2 to 200, got 1"],
                              ["env.discount=0", "env.discount must be a number in (0, 1], got 0"],
                              ["start_smiles=[]", "start_smiles must be a SMILES or a non-empty list"],
                              ["gan_lambda=2", "gan_lambda must be a number in [0, 1], got 2"],
                              ["allow_stop=1", "allow_stop must be true or false, got 1"]):
        with pytest.raises(ValueError, match=re.escape(message)):
            validate_config(merge_config(config, overrides=[override]))
    with pytest.raises(ValueError, match=re.escape("unknown setting(s) net.width")):
        validate_config(deep_merge(config, {"net": {"width": 3}}))
    validate_config(merge_config(config, overrides=["start_smiles=[CCO, c1ccccc1]", "epsilon.mid=0.1"]))


def test_each_transition_records_the_online_networks_best_next_candidate():
    trainer = MolDQNTrainer(tiny_config(learning_starts=10**6), None, progress_bar=False)
    trainer.run_episode()
    n = trainer.replay.size
    done = trainer.replay.done[:n]
    assert done[-1] == 1.0 and done[:-1].sum() == 0
    # Every non-terminal transition holds s'*, a real molecule one step later (fingerprint bits set, steps left
    # one less than its own), which the target network values at update time.
    assert np.all(trainer.replay.next_fps[: n - 1].any(axis=1))
    assert np.allclose(trainer.replay.next_steps_left[: n - 1],
                       trainer.replay.steps_left[: n - 1] - 1 / trainer.config["env"]["max_steps"])
    assert trainer.replay.incomplete is None
    # The default values s'* once, at collection, and stores that value.
    assert np.all(trainer.replay.bootstrap[: n - 1] != 0.0)


@pytest.mark.parametrize("target_values", ["collection", "update"])
def test_both_target_value_schemes_train(target_values):
    trainer = MolDQNTrainer(tiny_config(target_values=target_values, gamma=0.9, net={"hidden": [16], "heads": 2}),
                            None, progress_bar=False)
    for _ in range(3):
        trainer.run_episode()
    assert trainer.counters["updates"] > 0
    if target_values == "update":
        assert not trainer.replay.bootstrap[: trainer.replay.size].any()   # valued at update time instead


def test_a_run_saved_before_the_new_settings_resumes_with_their_old_defaults(tmp_path):
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    trainer = MolDQNTrainer(tiny_config(episodes=2), run_dir, progress_bar=False)
    trainer.run()
    old = tiny_config(episodes=3)
    del old["target_values"], old["epsilon"]["mid"]
    state = torch.load(run_dir.latest_checkpoint(), weights_only=True)
    for key in ("bootstrap", "next_fps", "next_steps_left"):
        del state["replay"][key]
    torch.save(state, run_dir.latest_checkpoint())
    again = MolDQNTrainer(old, run_dir, progress_bar=False)
    again.load(run_dir.latest_checkpoint())
    assert again.config["target_values"] == "collection" and again.replay.size == trainer.replay.size
    again.run()
    assert again.counters["episode"] == 3


def _tiny_run_args(tmp_path, *extra):
    return ["--episodes", "4", "--no-progress", "--device", "cpu", "--run-root", str(tmp_path),
            "--set", "learning_starts=8", "--set", "batch_size=8", "--set", "checkpoint_every=2", "--set", "log_every=1",
            "--set", "threads=1", "--set", "replay_capacity=200", "--set", "env.max_atoms=8",
            "--set", "env.max_steps=5", "--set", "env.fp_bits=64", "--set", "net.hidden=[32,16]", *extra]


def test_interrupt_saves_prints_the_resume_command_and_resume_trains_exactly_that_much_more(tmp_path, capsys,
                                                                                           monkeypatch):
    """Ctrl-C during an episode: it finishes, a checkpoint, model.pt and the top molecules are saved, the exact resume
    command is printed, exit status 130. The command with --episodes 2 trains two more; with no flag, the plan."""
    import signal

    played = []
    original = MolDQNTrainer.run_episode

    def run_episode(self, explore=True):
        played.append(1)
        if len(played) == 3:
            os.kill(os.getpid(), signal.SIGINT)   # during the third episode
        return original(self, explore)

    monkeypatch.setattr(MolDQNTrainer, "run_episode", run_episode)
    assert commands.train(_tiny_run_args(tmp_path, "--set", "keep_checkpoints=null")) == 130
    captured = capsys.readouterr()
    (run,) = (tmp_path / "molecule").iterdir()
    assert "SIGINT: stopping" in captured.err and f"continue with: arena-train molecule --resume {run}" in captured.err
    assert "Traceback" not in captured.err and f"run directory: {run} (" in captured.out
    checkpoints = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert checkpoints == ["checkpoint_000000002.pt", "checkpoint_000000003.pt"]  # the third episode finished
    assert (run / "model.pt").is_file() and (run / "top_molecules.csv").is_file()
    assert commands.train(["--resume", str(run), "--episodes", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "from checkpoint_000000003.pt at episode 3 (" in out and "training to episode 5 (--episodes 2 more)" in out
    assert "stopped by budget after episodes 5," in out
    assert yaml.safe_load((run / "config.yml").read_text())["episodes"] == 5
    (run / "checkpoints" / "checkpoint_000000005.pt").unlink()   # as if killed after the checkpoint at 4
    assert commands.train(["--resume", str(run), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "at episode 4 (" in out and "training to episode 5 (the saved plan)" in out
    assert "stopped by budget after episodes 5," in out
    with pytest.raises(SystemExit):   # the plan is done: say which flag to give
        commands.train(["--resume", str(run), "--no-progress"])
    assert "nothing left to train" in capsys.readouterr().err


def test_minutes_count_the_runs_training_time_across_a_resume(tmp_path, capsys):
    """--minutes on a resume is "that much more", and a saved minutes budget is the run's total: a run that has
    trained longer than its saved budget trains no more."""
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    trainer = MolDQNTrainer(tiny_config(episodes=2), run_dir, progress_bar=False)
    trainer.run()
    spent = trainer.counters["seconds"]
    again = MolDQNTrainer(tiny_config(episodes=100, minutes=spent / 120), run_dir, progress_bar=False)
    again.load(run_dir.latest_checkpoint())
    result = again.run()
    assert result.stopped_by == "minutes" and result.counters["episodes"] == 2
    run_dir.config_path.write_text(yaml.safe_dump(tiny_config(episodes=100_000)))
    assert commands.train(["--resume", str(run_dir.path), "--minutes", "0.001", "--no-progress"]) == 0
    out = capsys.readouterr().out
    saved = yaml.safe_load(run_dir.config_path.read_text())
    assert saved["minutes"] == pytest.approx(spent / 60 + 0.001, abs=1e-4) and saved["episodes"] == 100_000
    assert "training to episode 100,000 or " in out and "(--minutes 0.001 more)" in out
    match = re.search(r"stopped by minutes after episodes ([\d,]+)", out)
    assert match and 3 <= int(match.group(1).replace(",", "")) < 100_000, out


def test_elite_restarts_replay_a_prefix_of_a_stored_episode_and_resume(tmp_path):
    cfg = tiny_config(episodes=12, restart={"prob": 1.0, "elites": 3}, learning_starts=10**6)
    cfg["env"].update({"max_steps": 6})
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    trainer = MolDQNTrainer(cfg, run_dir, progress_bar=False)
    def add_elite(r):   # what the training loop does after each episode
        trainer.elites.add(r["smiles"], r["score"], (r["seed"], r["actions"]))

    first = trainer.run_episode()          # no elites yet: an ordinary episode
    assert first["replayed"] == 0 and len(first["actions"]) == 6
    add_elite(first)
    trainer.config["epsilon"] = {"start": 1.0, "mid": None, "end": 1.0, "decay_fraction": 0.5}   # all random after the prefix
    replays = [trainer.run_episode() for _ in range(8)]
    for r in replays:
        # at least one edit replayed, never all of them, and the replay follows the elite's edits exactly
        assert 1 <= r["replayed"] <= 5 and r["seed"] == first["seed"]
        assert r["actions"][: r["replayed"]] == first["actions"][: r["replayed"]]
        assert len(r["actions"]) == 6       # the step budget is the elite's: every molecule within max_steps edits
    assert len({r["replayed"] for r in replays}) > 1
    # Replaying the whole of an elite's edits in a fresh env gives back its molecule (the env is deterministic).
    env = trainer.env
    env.reset(seed=first["seed"])
    for a in first["actions"]:
        _, _, _, _, info = env.step(a)
    assert info["smiles"] == first["smiles"]
    # The archive keeps the best distinct episodes, best first, and survives a checkpoint.
    for r in replays:
        add_elite(r)
    scores = [e[0] for e in trainer.elites.best()]
    assert len(trainer.elites) <= 3 and scores == sorted(scores, reverse=True)
    assert len({e[1] for e in trainer.elites.best()}) == len(trainer.elites)
    trainer.writer = None
    trainer.save_checkpoint()
    again = MolDQNTrainer(cfg, run_dir, progress_bar=False)
    again.load(run_dir.latest_checkpoint())
    assert again.elites.best() == trainer.elites.best() and again.elites.payloads == trainer.elites.payloads
    with pytest.raises(ValueError, match="restart.prob"):
        validate_config(tiny_config(restart={"prob": 1.5, "elites": 3}))


def test_updates_never_sample_a_transition_still_waiting_for_its_next_state():
    trainer = MolDQNTrainer(tiny_config(learning_starts=10**6), None, progress_bar=False)
    trainer.run_episode()
    fp = np.zeros(trainer.config["env"]["fp_bits"], dtype=np.uint8)
    i = trainer.replay.add(fp, 0.5, 0.1, False, np.ones(1, dtype=np.float32))
    assert trainer.replay.incomplete == i
    idx = trainer.replay.sample(np.random.default_rng(0), 5000)
    assert i not in set(idx.tolist()) and set(idx.tolist()) == set(range(trainer.replay.size)) - {i}
    trainer.replay.set_next(i, fp + 1, 0.4)
    assert trainer.replay.incomplete is None


def test_epsilon_schedules():
    trainer = MolDQNTrainer(tiny_config(episodes=100), None, progress_bar=False)
    at = {}
    for ep in (0, 25, 50, 75, 100):
        trainer.counters["episode"] = ep
        at[ep] = trainer.epsilon()
    assert at == pytest.approx({0: 1.0, 25: 0.505, 50: 0.01, 75: 0.01, 100: 0.01})
    # MolDQN's piecewise schedule: 1.0 -> 0.1 at half the episodes -> 0.01 at the end.
    trainer.config["epsilon"] = {"start": 1.0, "mid": 0.1, "end": 0.01, "decay_fraction": 0.5}
    for ep, want in ((0, 1.0), (25, 0.55), (50, 0.1), (75, 0.055), (100, 0.01), (130, 0.01)):
        trainer.counters["episode"] = ep
        assert trainer.epsilon() == pytest.approx(want)
    with pytest.raises(ValueError, match="epsilon.mid"):
        validate_config(tiny_config(epsilon={"start": 1.0, "mid": 0.001, "end": 0.01, "decay_fraction": 0.5}))


def test_bootstrapped_heads_train():
    trainer = MolDQNTrainer(tiny_config(net={"hidden": [16], "heads": 3}), None, progress_bar=False)
    for _ in range(3):
        trainer.run_episode()
    assert trainer.replay.head_mask.shape[1] == 3 and trainer.counters["updates"] > 0


def test_policy_loads_and_generates(tmp_path):
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    MolDQNTrainer(tiny_config(episodes=2), run_dir, progress_bar=False).run()
    policy = MolDQNPolicy.load(run_dir.path / "model.pt", device="cpu")
    env = policy.make_env()
    path = policy.generate(env, seed=0)
    assert len(path) == 6 and all(Chem.MolFromSmiles(s) is not None for s in path)
    # A training checkpoint loads too.
    MolDQNPolicy.load(run_dir.latest_checkpoint(), device="cpu")


def test_bad_files_and_configs(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        MolDQNPolicy.load(bad)
    other = tmp_path / "other.pt"
    torch.save({"kind": "something"}, other)
    with pytest.raises(CheckpointError, match="not a MolDQN"):
        MolDQNPolicy.load(other)
    for change, words in [({"lr": -1}, "lr"), ({"episodes": 0}, "episodes"), ({"gamma": 2}, "gamma"),
                          ({"epsilon": {"start": 0.1, "end": 0.5, "decay_fraction": 0.5}}, "epsilon"),
                          ({"target_values": "later"}, "target_values")]:
        with pytest.raises(ValueError, match=words):
            validate_config(tiny_config(**change))
    with pytest.raises(ValueError, match="could not parse"):
        MolDQNTrainer(tiny_config(start_smiles="C1CC"), None, progress_bar=False)
    with pytest.raises(ValueError, match="does not exist"):
        MolDQNTrainer(tiny_config(start_file=str(tmp_path / "none.smi")), None, progress_bar=False)


def test_train_script_errors_before_making_a_run_dir(tmp_path):
    script = Path(__file__).resolve().parents[2] / "scripts" / "train_molecule.py"
    out = subprocess.run([sys.executable, str(script), "--start-smiles", "not_smiles", "--episodes", "1",
                          "--run-root", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "could not parse" in out.stderr
    assert not (tmp_path / "molecule").exists()


def test_gan_reward_and_gan_starts(tmp_path):
    """ORGAN-style pairing: the shipped GAN's critic mixed into the reward, episodes started from GAN samples."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "train_molecule.py"
    out = subprocess.run([sys.executable, str(script), "--objective", "qed", "--episodes", "2", "--gan-reward",
                          "pretrained", "--gan-lambda", "0.5", "--start-from-gan", "pretrained", "--gan-starts", "5",
                          "--set", "env.max_atoms=12", "--set", "env.max_steps=3", "--set", "env.fp_bits=64",
                          "--set", "net.hidden=[16]", "--set", "learning_starts=2", "--set", "batch_size=2",
                          "--set", "threads=1", "--run-root", str(tmp_path), "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "starting from 5 GAN molecules" in out.stdout
    import yaml

    config = yaml.safe_load(next((tmp_path / "molecule").glob("moldqn-*/config.yml")).read_text())
    assert config["gan_reward"] == "pretrained" and config["gan_lambda"] == 0.5 and len(config["start_smiles"]) == 5
    bad = subprocess.run([sys.executable, str(script), "--objective", "sim_plogp", "--gan-reward", "pretrained",
                          "--episodes", "1", "--run-root", str(tmp_path / "b")], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "sim_plogp" in bad.stderr


def test_shipped_qed_model_loads_and_plays():
    from deep_arena import agents

    policy = agents.load_pretrained("molecule-qed", device="cpu")
    env = policy.make_env(max_steps=3)
    path = policy.generate(env, seed=0)
    assert len(path) == 4 and all(Chem.MolFromSmiles(s) is not None for s in path)
    assert (Path(agents.__file__).parent / "pretrained" / "molecule-qed.pt").stat().st_size < 5 * 2**20
