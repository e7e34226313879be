"""The scripted push and pick-and-place experts and the expert start of the arm trainer (demonstrations, cloning, critic warm-up)."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported anywhere: headless rendering
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from deep_arena.agents.arm import expert as arm_expert, sb3_trainer as arm  # noqa: E402
from deep_arena.runtime import RunDir  # noqa: E402

torch.set_num_threads(1)


def _push_config(**expert):
    config = arm.default_config("push", "tqc")
    config.update({"seed": 0, "threads": 1, "device": "cpu", "eval_every": 100, "eval_episodes": 2,
                   "checkpoint_every": 100, "eval_frames": False, "total_steps": 100})
    config["model"].update({"learning_starts": 50, "batch_size": 32, "buffer_size": 5000,
                            "policy_kwargs": {"net_arch": [32, 32], "n_critics": 2}})
    config["expert"].update(expert)
    return config


def test_scripted_expert_pushes_the_cube_to_the_goal():
    env = arm.make_env(arm.default_config("push", "tqc"))
    demos = arm_expert.collect_demonstrations(env, 30, seed=0)
    env.close()
    assert demos["successes"].mean() >= 0.8          # about 0.96 over 100 episodes
    assert len(demos["transitions"]) == 30 * 50
    actions = np.stack([t[2] for t in demos["transitions"]])
    assert actions.shape == (1500, 4) and np.all(np.abs(actions) <= 1) and np.all(actions[:, 3] == -1)


def test_scripted_pick_and_place_expert_grasps_carries_and_places():
    env = arm.make_env(arm.default_config("pick_and_place", "tqc"))
    demos = arm_expert.collect_demonstrations(env, 20, seed=10_000_000, push_speed=0.3, task="pick_and_place")
    env.close()
    assert demos["successes"].mean() >= 0.85          # 994 of 1,000 from this seed on
    actions = np.stack([t[2] for t in demos["transitions"]])
    assert np.all(np.abs(actions) <= 1) and set(np.unique(actions[:, 3])) == {-1.0, 1.0}   # opens and closes
    lifted = max(t[1]["achieved_goal"][2] for t in demos["transitions"])
    assert lifted > 0.47                              # carried through the air, not pushed


def test_expert_policy_names_the_tasks_it_has():
    assert callable(arm_expert.expert_policy("pick_and_place", 0.3))
    with pytest.raises(ValueError, match="no scripted expert for task 'reach'"):
        arm_expert.expert_policy("reach", 0.3)


def test_pick_and_place_expert_start_clones_the_pick_and_place_expert(tmp_path):
    config = _push_config(episodes=3, bc_steps=20, dagger_rounds=1, dagger_episodes=1, critic_steps=5)
    config.update(task="pick_and_place", total_steps=50, eval_every=50, checkpoint_every=50)
    trainer = arm.ArmTrainer(config, RunDir.create("arm", "tqc", root=tmp_path), progress_bar=False)
    trainer.setup()
    assert trainer.model.replay_buffer.size() == (3 + 1) * 50
    with np.load(trainer.run_dir.checkpoints_dir / "expert_states.npz") as saved:
        obs = {k[4:]: saved[k] for k in saved.files if k.startswith("obs_")}
        labels = saved["actions"]
    first = {k: v[0] for k, v in obs.items()}
    assert np.array_equal(labels[0], arm_expert.scripted_pick_and_place_action(first, 0.3))
    assert trainer.run().stopped_by == "budget"


def test_expert_start_fills_her_buffer_clones_the_expert_and_warms_the_critic_only(tmp_path, monkeypatch):
    config = _push_config(episodes=6, bc_steps=300, dagger_rounds=1, dagger_episodes=2, critic_steps=20, bc_alpha=2.5,
                          q_filter=True)
    trainer = arm.ArmTrainer(config, RunDir.create("arm", "tqc", root=tmp_path), progress_bar=False)
    # setup() runs the expert start; watch what it changes
    calls = {}
    real_bc = arm_expert.behaviour_cloning

    def bc(model, obs, actions, steps, **kw):
        calls.setdefault("sizes", []).append(len(actions))
        calls["bc"] = real_bc(model, obs, actions, steps, **kw)
        calls["actor_after_bc"] = [p.detach().clone() for p in model.actor.parameters()]
        calls["critic_before"] = [p.detach().clone() for p in model.critic.parameters()]
        return calls["bc"]

    monkeypatch.setattr(arm_expert, "behaviour_cloning", bc)
    trainer.setup()
    model = trainer.model
    assert model.num_timesteps == 0                           # demonstrations are not agent steps
    # inputs standardised with the demonstrations' statistics, in the actor and both critics
    extractors = [model.actor.features_extractor, model.critic.features_extractor,
                  model.critic_target.features_extractor]
    assert all(isinstance(e, arm_expert.NormalisedDictExtractor) for e in extractors)
    assert all(not torch.all(e.std == 1) and torch.all(e.std >= 1e-3) for e in extractors)
    assert (trainer.run_dir.checkpoints_dir / "model_000000000.zip").is_file()   # the expert start alone
    assert model.replay_buffer.size() == (6 + 2) * 50          # the expert's episodes and DAgger's
    assert calls["sizes"] == [300, 400]                         # cloned on the demonstrations, then with DAgger's
    with np.load(trainer.run_dir.checkpoints_dir / "expert_states.npz") as saved:
        assert saved["actions"].shape == (400, 4) and saved["obs_observation"].shape == (400, 24)
    assert model.replay_buffer.sample(16).rewards.shape == (16, 1)   # HER can relabel the expert's episodes
    obs, actions = arm_expert.labelled_states(arm_expert.collect_demonstrations(
        arm.make_env(config), 3, seed=0)["transitions"])
    fresh = arm.ArmTrainer(_push_config(), RunDir.create("arm", "tqc", root=tmp_path), progress_bar=False).setup()
    losses = real_bc(fresh.model, obs, actions, 300)
    assert np.mean(losses[-30:]) < 0.5 * np.mean(losses[:30])
    # the warm-up trained the critics and left the actor as cloned; the entropy coefficient starts at 0.01
    assert all(torch.equal(a, b) for a, b in zip(calls["actor_after_bc"], model.actor.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(calls["critic_before"], model.critic.parameters()))
    assert np.isclose(model.log_ent_coef.detach().exp().item(), 0.01)
    assert vars(model.actor.optimizer)["step"] == trainer.regulariser._step   # the freeze is undone, the
                                                                                # cloning term installed
    # while RL trains, the Q-filtered cloning term rides on every actor step
    result = trainer.run()
    assert result.counters["env_steps"] == 100 and result.details["steps"] == 100
    assert result.model_path == trainer.run_dir.path / "final_model.zip" and result.stopped_by == "budget"
    loaded = arm.load_model(trainer.run_dir.path / "final_model.zip", device="cpu")   # statistics travel along
    assert torch.equal(loaded.actor.features_extractor.std, model.actor.features_extractor.std)
    stats = trainer.regulariser.stats
    assert stats["loss"] >= 0 and 0 <= stats["q_filter_pass"] <= 1
    trainer.regulariser.remove()
    assert "step" not in vars(model.actor.optimizer)


@pytest.mark.parametrize("change, message", [
    ({"task": "reach"}, "scripted experts for push"),
    ({"algo": "td3"}, "scripted experts for push"),
    ({"expert": {"episodes": -1}}, "expert.episodes"),
    ({"expert": {"episodes": 0, "bc_steps": 10}}, "need expert.episodes"),
    ({"expert": {"episodes": 0, "bc_alpha": 1.0}}, "need expert.episodes"),
    ({"expert": {"bc_alpha": -1}}, "expert.bc_alpha"),
    ({"expert": {"dagger_rounds": 2, "dagger_episodes": 0}}, "dagger_episodes >= 1"),
    ({"expert": {"q_filter": "yes"}}, "expert.q_filter"),
    ({"expert": {"normalise_inputs": 1}}, "expert.normalise_inputs"),
])
def test_bad_expert_settings_name_the_problem(change, message):
    config = _push_config(episodes=2)
    for key, value in change.items():
        if key == "expert":
            config["expert"].update(value)
        else:
            config[key] = value
    with pytest.raises(ValueError, match=message):
        arm.validate_config(config)
