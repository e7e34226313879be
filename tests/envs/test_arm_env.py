"""The robot-arm environments (envs/arm): API checkers, determinism, rewards, goals, bad input, the controller,
a scripted grasp, rendering and an SB3 HER smoke run."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported anywhere: headless rendering
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import deep_arena.envs  # noqa: F401  (registers arena/*)
from deep_arena.envs.arm.env import ArmEnv
from deep_arena.envs.arm.sim import EE_STEP, TABLE_Z

ARM_IDS = ["arena/ArmReach-v0", "arena/ArmPush-v0", "arena/ArmPickAndPlace-v0"]


def _towards(obs, target, grip=None):
    """A proportional end-effector action moving the grip point to ``target`` (plus a gripper command)."""
    a = np.clip((np.asarray(target) - obs["observation"][:3]) / EE_STEP, -1, 1)
    return a if grip is None else np.append(a, grip)


# -- API -------------------------------------------------------------------------------------------------------------

# Gymnasium's and SB3's checkers on the registered ids run in tests/envs/test_env_contract.py; here on joint control.
def test_checkers_with_joint_control():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = ArmEnv(task="push", control="joint")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test, except the one about unbounded
        warnings.filterwarnings("ignore", message=".*infinity")  # observation boxes (positions, velocities)
        gym_check_env(env, skip_render_check=True)
        sb3_check_env(env)
    env.close()


@pytest.mark.parametrize("env_id", ARM_IDS)
def test_spaces_and_episode_length(env_id):
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    n_obs = 8 if "Reach" in env_id else 24
    assert env.observation_space["observation"].shape == (n_obs,)
    assert env.action_space.shape == ((3,) if "Reach" in env_id else (4,))
    for key in ("observation", "achieved_goal", "desired_goal"):
        assert obs[key].dtype == np.float32 and env.observation_space[key].contains(obs[key])
    assert set(info) == {"is_success", "distance"}
    u = env.unwrapped
    assert u.goal_low.shape == u.goal_high.shape == (3,) and (u.goal_low <= obs["desired_goal"] + 1e-6).all()
    for t in range(50):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert not terminated  # success never terminates
        assert truncated == (t == 49)
    env.close()


def test_same_seed_same_bytes():
    def rollout():
        env = gym.make("arena/ArmPickAndPlace-v0")
        env.action_space.seed(7)
        out = [b"".join(v.tobytes() for v in env.reset(seed=123)[0].values())]
        for _ in range(50):
            obs, r, *_ = env.step(env.action_space.sample())
            out.append(b"".join(v.tobytes() for v in obs.values()) + np.float64(r).tobytes())
        env.close()
        return out

    assert rollout() == rollout()
    a = gym.make("arena/ArmPush-v0").reset(seed=1)[0]
    b = gym.make("arena/ArmPush-v0").reset(seed=2)[0]
    assert not np.array_equal(a["observation"], b["observation"])


@pytest.mark.parametrize("reward_type", ["sparse", "dense"])
@pytest.mark.parametrize("env_id", ["arena/ArmReach-v0", "arena/ArmPush-v0"])
def test_compute_reward_batches_match_steps(env_id, reward_type):
    env = gym.make(env_id, reward_type=reward_type)
    u = env.unwrapped
    obs, _ = env.reset(seed=3)
    achieved, desired, rewards, infos = [], [], [], []
    for _ in range(30):
        obs, r, _, _, info = env.step(_towards(obs, obs["desired_goal"], 1.0)[:env.action_space.shape[0]])
        achieved.append(obs["achieved_goal"]), desired.append(obs["desired_goal"])
        rewards.append(r), infos.append(info)
        assert u.compute_reward(obs["achieved_goal"], obs["desired_goal"], info) == r
    achieved, desired = np.array(achieved), np.array(desired)
    batch = u.compute_reward(achieved, desired, np.array(infos))  # as SB3's HerReplayBuffer calls it
    assert batch.shape == (30,)
    np.testing.assert_array_equal(batch, rewards)
    assert u.compute_reward(achieved, desired, infos).shape == (30,)  # a list of dicts is fine too
    assert u.compute_reward(achieved[None], desired[None], None).shape == (1, 30)
    if reward_type == "sparse":
        assert set(np.unique(batch)) <= {0.0, -1.0}
        assert u.compute_reward([0, 0, 0], [0.03, 0.03, 0.0], None) == 0.0  # 4.2 cm: success
        assert u.compute_reward([0, 0, 0], [0.0, 0.0, 0.06], None) == -1.0
    else:
        diff = achieved.astype(np.float64) - desired.astype(np.float64)
        np.testing.assert_allclose(batch, -np.linalg.norm(diff, axis=1), rtol=1e-12)
    env.close()


def test_is_success_and_reach_solved_by_proportional_policy():
    env = gym.make("arena/ArmReach-v0")
    obs, info = env.reset(seed=0)
    assert not info["is_success"]
    for _ in range(30):
        obs, r, _, _, info = env.step(_towards(obs, obs["desired_goal"]))
    assert info["is_success"] and r == 0.0 and info["distance"] < 0.01


# -- goals and options -----------------------------------------------------------------------------------------------

def test_reset_goal_option_is_honoured_and_validated():
    env = gym.make("arena/ArmPickAndPlace-v0")
    u = env.unwrapped
    goal = np.array([0.4, 0.1, TABLE_Z + 0.2])
    obs, _ = env.reset(seed=0, options={"goal": goal})
    np.testing.assert_array_equal(obs["desired_goal"], goal.astype(np.float32))
    np.testing.assert_array_equal(u.sim.goal_pos, goal)  # the marker moved too
    obs, _ = env.reset(seed=0, options={"object_xy": [0.3, -0.1]})
    np.testing.assert_allclose(obs["achieved_goal"], [0.3, -0.1, TABLE_Z + 0.025], atol=1e-6)
    for bad, match in [([0.4, 0.1], "shape"), ([np.nan, 0, 0.5], "finite"), ([0.4, 0, 2.0], "outside"),
                       ("abc", "3-vector")]:
        with pytest.raises(ValueError, match=match):
            env.reset(options={"goal": bad})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"gaol": goal})
    with pytest.raises(ValueError, match="object_xy"):
        env.reset(options={"object_xy": [5.0, 0.0]})
    with pytest.raises(ValueError, match="reach has no cube"):
        gym.make("arena/ArmReach-v0").reset(options={"object_xy": [0.3, 0.0]})


def test_goal_spaces():
    default = gym.make("arena/ArmReach-v0").unwrapped
    wide = gym.make("arena/ArmReach-v0", goal_space="wide").unwrapped
    assert (wide.goal_low < default.goal_low).all() and (wide.goal_high > default.goal_high).all()
    push = gym.make("arena/ArmPush-v0").unwrapped
    assert push.goal_low[2] == push.goal_high[2] == TABLE_Z + 0.025  # push goals lie on the table
    env = gym.make("arena/ArmReach-v0", goal_space="wide")
    goals = np.array([env.reset(seed=s)[0]["desired_goal"] for s in range(200)])
    assert (goals >= wide.goal_low - 1e-6).all() and (goals <= wide.goal_high + 1e-6).all()
    assert (goals.min(0) < default.goal_low).any()  # some sampled goals are outside the default box
    box = ([0.3, -0.1, 0.5], [0.35, 0.1, 0.6])
    custom = gym.make("arena/ArmReach-v0", goal_space=box).unwrapped
    np.testing.assert_array_equal(custom.goal_low, box[0])
    goal = custom.reset(seed=0)[0]["desired_goal"]
    assert (goal >= np.float32(box[0])).all() and (goal <= np.float32(box[1])).all()
    for bad in ["huge", ([0.3, 0, 0.5], [0.2, 0, 0.6]), ([0, 0, 0], [5, 5, 5]), ([0, 0], [1, 1])]:
        with pytest.raises(ValueError):
            ArmEnv(task="reach", goal_space=bad)
    for kwargs in [dict(task="dance"), dict(reward_type="shaped"), dict(control="torque"),
                   dict(render_mode="ascii"), dict(timestep=-1.0)]:
        with pytest.raises(ValueError):
            ArmEnv(**kwargs)


def test_pick_and_place_puts_half_the_goals_in_the_air():
    env = gym.make("arena/ArmPickAndPlace-v0")
    z = np.array([env.reset(seed=s)[0]["desired_goal"][2] for s in range(200)])
    on_table = np.isclose(z, TABLE_Z + 0.025)
    assert 0.35 < on_table.mean() < 0.65


# -- actions ---------------------------------------------------------------------------------------------------------

def test_bad_actions_raise_and_large_ones_are_clipped():
    env = gym.make("arena/ArmPush-v0")
    env.reset(seed=0)
    for bad, match in [([np.nan, 0, 0, 0], "non-finite"), ([0, np.inf, 0, 0], "non-finite"),
                       ([0, 0, 0], "shape"), ("left", "numbers")]:
        with pytest.raises(ValueError, match=match):
            env.step(bad)

    def after(action):
        e = gym.make("arena/ArmPush-v0")
        e.reset(seed=0)
        return e.step(np.array(action, dtype=np.float32))[0]["observation"]

    np.testing.assert_array_equal(after([5.0, -9.0, 1e6, 3.0]), after([1.0, -1.0, 1.0, 1.0]))


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="reset"):
        ArmEnv(task="reach").step(np.zeros(3))


@pytest.mark.parametrize("direction", [(1, 0, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)])
def test_controller_follows_commanded_displacement(direction):
    env = gym.make("arena/ArmReach-v0")
    obs, _ = env.reset(seed=0)
    start = obs["observation"][:3].copy()
    k = 4
    for _ in range(k):
        obs, *_ = env.step(np.array(direction, dtype=np.float32))
    for _ in range(5):  # settle: a zero action holds the position
        obs, *_ = env.step(np.zeros(3, dtype=np.float32))
    moved = obs["observation"][:3] - start
    expected = np.array(direction) * EE_STEP * k
    along = moved @ np.array(direction)
    assert 0.8 * EE_STEP * k <= along <= 1.1 * EE_STEP * k, moved
    assert np.linalg.norm(moved - along * np.array(direction)) < 0.015, moved  # little sideways drift
    assert np.linalg.norm(moved - expected) < 0.04
    hand_z = env.unwrapped.sim.data.site_xmat[env.unwrapped.sim.grip_site].reshape(3, 3)[:, 2]
    assert hand_z[2] < -0.99  # the hand still points down


def test_joint_control():
    env = gym.make("arena/ArmPush-v0", control="joint")
    assert env.action_space.shape == (8,)
    env.reset(seed=0)
    q0 = env.unwrapped.sim.qpos[:7].copy()
    action = np.zeros(8, dtype=np.float32)
    action[0] = 1.0
    for _ in range(3):
        env.step(action)
    dq = env.unwrapped.sim.qpos[:7] - q0
    assert 0.2 < dq[0] < 0.35 and np.abs(dq[1:]).max() < 0.05


def test_physics_blow_up_truncates_with_finite_observation():
    env = gym.make("arena/ArmPush-v0")
    obs, _ = env.reset(seed=0)
    env.unwrapped.sim.data.qvel[:] = np.nan
    obs2, reward, terminated, truncated, info = env.step(np.zeros(4, dtype=np.float32))
    assert truncated and not terminated and "physics_error" in info
    assert all(np.isfinite(v).all() for v in obs2.values())
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(4, dtype=np.float32))
    obs3, info = env.reset(seed=0)
    np.testing.assert_array_equal(obs3["observation"], obs["observation"])
    assert "physics_error" not in info


# -- physics ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("integration", [{}, {"timestep": 0.002, "substeps": 20}])
def test_scripted_grasp_lifts_the_cube(integration):
    env = gym.make("arena/ArmPickAndPlace-v0", **integration)
    obs, _ = env.reset(seed=5, options={"object_xy": [0.42, 0.08], "goal": [0.40, 0.0, TABLE_Z + 0.2]})
    cube = obs["observation"][8:11].copy()
    for target, grip, steps in [(cube + [0, 0, 0.1], 1.0, 12),   # above the cube, fingers open
                                (cube, 1.0, 10),                  # down around it
                                (cube, -1.0, 6)]:                 # close
        for _ in range(steps):
            obs, *_ = env.step(_towards(obs, target, grip))
    assert 0.045 < obs["observation"][6] < 0.052  # the fingers stop on the 5 cm cube
    for _ in range(25):  # carry it to the goal in the air
        obs, reward, _, _, info = env.step(_towards(obs, obs["desired_goal"], -1.0))
    assert obs["achieved_goal"][2] > TABLE_Z + 0.15  # lifted by friction alone
    assert info["is_success"] and reward == 0.0
    # open: it drops back to the table
    for _ in range(15):
        obs, *_ = env.step(np.array([0, 0, 0, 1.0], dtype=np.float32))
    assert obs["achieved_goal"][2] < TABLE_Z + 0.03


def test_push_moves_the_cube():
    env = gym.make("arena/ArmPush-v0")
    obs, _ = env.reset(seed=0, options={"object_xy": [0.35, 0.0], "goal": [0.50, 0.0, TABLE_Z + 0.025]})
    behind = obs["achieved_goal"] + [-0.06, 0, 0]
    for target, steps, speed in [(behind + [0, 0, 0.08], 10, 1.0), (behind, 8, 1.0),
                                 (obs["desired_goal"] + [-0.04, 0, 0], 40, 0.3)]:  # push gently (0.015 m/step)
        for _ in range(steps):
            obs, _, _, _, info = env.step(np.clip(_towards(obs, target, -1.0) * [1, 1, 1, 1], -speed, speed))
    assert info["is_success"], info


# -- rendering -------------------------------------------------------------------------------------------------------

def test_rgb_array_render():
    env = gym.make("arena/ArmPush-v0", render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8 and frame.std() > 5
    env.step(np.ones(4, np.float32))  # a full step of the hand: the next frame shows it moved
    second = env.render()
    assert second.shape == frame.shape and not np.array_equal(second, frame)
    env.close()


def test_2d_fallback_render():
    from deep_arena.envs.arm.render import ArmRenderer

    env = ArmEnv(task="pick_and_place")
    env.reset(seed=0)
    frame = ArmRenderer(env.sim, 200, 150, use_gl=False).render("rgb_array", ["pick_and_place step 0"])
    assert frame.shape == (150, 200, 3) and frame.dtype == np.uint8 and frame.std() > 5


def test_human_render_with_dummy_video_driver():
    env = gym.make("arena/ArmReach-v0", render_mode="human", width=128, height=128)
    env.reset(seed=0)
    for _ in range(2):
        env.step(env.action_space.sample())
    env.close()


# -- learning --------------------------------------------------------------------------------------------------------

def test_her_smoke():
    from stable_baselines3 import SAC, HerReplayBuffer

    env = gym.make("arena/ArmPush-v0")
    model = SAC("MultiInputPolicy", env, replay_buffer_class=HerReplayBuffer,
                replay_buffer_kwargs=dict(n_sampled_goal=4, goal_selection_strategy="future"),
                buffer_size=1_000, learning_starts=100, batch_size=64, policy_kwargs=dict(net_arch=[32, 32]), seed=0, device="cpu")
    model.learn(300)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert action.shape == (4,)


NO_EGL_SITECUSTOMIZE = '''
import importlib.abc, importlib.machinery, sys
class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None
    def exec_module(self, module):  # what PyOpenGL raises where libEGL cannot be loaded
        raise AttributeError("'NoneType' object has no attribute 'eglQueryString'")
class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, _Loader()) if name == "OpenGL.EGL" else None
sys.meta_path.insert(0, _Finder())
'''


def test_missing_egl_library_keeps_physics_and_falls_back_to_2d_views(tmp_path):
    """MUJOCO_GL=egl on a machine without libEGL (seen on a bare GPU server): `import mujoco` itself used to fail
    there. The env must still step, warn once saying what to install, and render the 2-D views."""
    import subprocess
    import sys

    (tmp_path / "sitecustomize.py").write_text(NO_EGL_SITECUSTOMIZE)
    code = ("import gymnasium as gym, envs, numpy as np, os\n"
            "env = gym.make('arena/ArmPush-v0', render_mode='rgb_array')\n"
            "env.reset(seed=0)\n"
            "for _ in range(3): obs, r, term, trunc, info = env.step(np.zeros(4, np.float32))\n"
            "frame = env.render()\n"
            "print('OK', frame.shape, os.environ['MUJOCO_GL'], env.unwrapped._renderer.uses_gl)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, MUJOCO_GL="egl", PYTHONPATH=f"{tmp_path}{os.pathsep}{root}")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK (480, 480, 3) disable False" in proc.stdout
    assert "MuJoCo's OpenGL backend failed to load" in proc.stderr and "libegl1" in proc.stderr
