"""The robot-arm trainer's settings (``--set key=value`` names below): one source of its defaults and checks.

The defaults of a run are layered: :class:`ArmSettings` (here) < the shipped ``agents/hyperparams/<algo>.yml``
entry for the task's env id (:func:`default_config`) < ``--config`` < flags < ``--set``. ``model`` (the
algorithm's constructor arguments), ``env_kwargs`` (more ArmEnv arguments), ``her_kwargs`` and ``goalgan``
(``gan.goalgan.GoalGANConfig`` fields, checked by the curriculum) are open bags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deep_arena.agents.hyperparams import load_hyperparams
from deep_arena.runtime.config import deep_merge
from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

__all__ = ["ALGOS", "ArmSettings", "DEFAULTS", "ExpertSettings", "OFF_POLICY", "TASKS", "default_config", "env_id"]

TASKS = {"reach": "arena/ArmReach-v0", "push": "arena/ArmPush-v0", "pick_and_place": "arena/ArmPickAndPlace-v0"}
ALGOS = ("sac", "tqc", "td3", "ppo", "sbx_tqc", "sbx_sac")   # sbx_*: SB3 in JAX (the [fast] extra)
OFF_POLICY = ("sac", "tqc", "td3", "sbx_tqc", "sbx_sac")


@dataclass
class ExpertSettings(Settings):
    """Expert start (push and pick-and-place, SAC/TQC only; ``agents.arm.expert``), all before the first agent step, off by default:
    demonstrations into the replay buffer, behaviour cloning of the actor, DAgger rounds, critic warm-up with the
    actor fixed; then optionally a cloning term in the actor loss while RL trains."""

    episodes: int = setting(0, low=0, help="scripted expert episodes (into the replay buffer and the cloning set)")
    bc_steps: int = setting(0, low=0, help="cloning steps (batch 256) after the demonstrations and each DAgger round")
    dagger_rounds: int = setting(0, low=0, help="rounds of: the policy plays, the expert labels its states, refit")
    dagger_episodes: int = setting(100, low=0, help="policy episodes per DAgger round")
    critic_steps: int = setting(0, low=0, help="critic warm-up steps with the actor and entropy coefficient fixed")
    push_speed: float = setting(0.3, low=0.0, low_open=True, help="the expert's speed cap while pushing (action units)")
    carry_speed: float = setting(0.3, low=0.0, low_open=True, help="pick-and-place: the expert's speed cap while "
                                                                   "it holds the cube (action units)")
    seed: int = setting(10_000_000, low=0, help="reset seed of the first demonstration (then +1 per episode)")
    ent_coef: float = setting(0.01, low=0.0, help="starting entropy coefficient (auto ent_coef only; 0: SB3's): "
                                                  "SB3's 1 would wash the clone out within a few hundred updates")
    bc_alpha: float = setting(0.0, low=0.0, help="> 0: cloning term in the actor loss while RL trains, weight "
                                                 "mean|Q|/alpha (TD3+BC's alpha is 2.5; smaller holds the actor "
                                                 "closer to the expert)")
    q_filter: bool = setting(False, help="count that term only where the critic prefers the expert's action")
    normalise_inputs: bool = setting(True, help="standardise the networks' inputs with the demonstrations' mean and "
                                                "std")

    def check(self) -> None:
        if self.dagger_rounds and not self.dagger_episodes:
            raise ValueError("expert.dagger_rounds needs expert.dagger_episodes >= 1 (the policy's episodes per round)")
        if (self.bc_steps or self.critic_steps or self.bc_alpha or self.dagger_rounds) and not self.episodes:
            raise ValueError("expert.bc_steps, dagger_rounds, critic_steps and bc_alpha need expert.episodes > 0 "
                             "(demonstrations)")


@dataclass
class ArmSettings(RunSettings):
    task: str = setting("reach", choices=tuple(TASKS))
    algo: str = setting("tqc", choices=ALGOS)
    her: bool = setting(False, help="hindsight experience replay (off-policy only)")
    her_kwargs: dict = setting({"n_sampled_goal": 4, "goal_selection_strategy": "future"},
                               help="HerReplayBuffer arguments")
    reward_type: str = setting("sparse", choices=("sparse", "dense"))
    control: str = setting("ee", choices=("ee", "joint"), help="end-effector or joint control")
    env_kwargs: dict = setting(dict, help="more ArmEnv arguments (goal_space, timestep, substeps...)")
    total_steps: int = setting(20_000, low=1, help="env steps, counted across a resume")
    minutes: float | None = setting(None, low=0.0, low_open=True, help="optional wall-clock budget on top (the "
                                                                       "run's training time, across resumes)")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")
    n_envs: int = setting(1, low=1)
    vec_env: str = setting("dummy", choices=("dummy", "subproc"))
    policy: str = setting("MultiInputPolicy")
    action_noise_sigma: float | None = setting(None, low=0.0, help="off-policy: Gaussian exploration noise (std, in "
                                                                   "action units), e.g. for TD3")
    model: dict = setting(dict, help="keyword arguments of the algorithm's constructor")
    eval_every: int = setting(2_000, low=1, help="env steps between evaluations")
    eval_episodes: int = setting(20, low=1)
    eval_seed: int = setting(1_000_000, low=0, help="evaluation episode i resets with seed eval_seed + i")
    eval_frames: bool = setting(True, help="a strip of the first evaluation episode's frames to TensorBoard")
    frame_size: int = setting(128, low=64, help="evaluation frames: width and height in pixels (the env needs >= 64)")
    frame_stride: int = setting(5, low=1)
    video: bool = setting(False, help="the first episode of each evaluation as a video: TensorBoard (eval/video, "
                                       "an animated GIF) and videos/eval_<step>.mp4 (arena-train arm --video)")
    checkpoint_every: int = setting(10_000, low=1)
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints/model_*.zip kept (with their extra "
                                                          "state); null keeps every one")
    save_replay_buffer: bool = setting(True, help="off-policy: the newest checkpoint's replay buffer (only the "
                                                  "transitions stored), for --resume")
    curriculum: str | None = setting(None, choices=("goalgan",), help="None (the env samples goals uniformly) or "
                                                                       "goalgan (built by the script)")
    goalgan: dict = setting(dict, help="gan.goalgan.GoalGANConfig fields")
    expert: ExpertSettings = nested(ExpertSettings)
    coverage_per_axis: int | None = setting(None, low=0, help="test-goal grid per axis for eval/coverage; None: 4 "
                                                              "with a curriculum or a non-default goal_space, else "
                                                              "off; 0: off")

    def check(self) -> None:
        if self.her and self.algo not in OFF_POLICY:
            raise ValueError(f"--her needs an off-policy algorithm ({', '.join(OFF_POLICY)}): hindsight relabelling "
                             f"rewrites stored transitions, and {self.algo} keeps no replay buffer")
        if self.action_noise_sigma is not None and self.algo == "ppo":
            raise ValueError("action_noise_sigma applies to off-policy algorithms; PPO explores with its own noise")
        if self.curriculum and self.vec_env == "subproc" and self.n_envs > 1:
            raise ValueError("a goal curriculum learns from every episode in this process; use vec_env=dummy with it")
        if self.expert.episodes and (self.task not in ("push", "pick_and_place") or self.algo not in ("sac", "tqc")):
            raise ValueError(f"the expert start has scripted experts for push and pick_and_place and fits a SAC/TQC "
                             f"actor; "
                             f"got task {self.task!r}, algo {self.algo!r}")


DEFAULTS: dict[str, Any] = ArmSettings.defaults()  # device and seed included


def env_id(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    return TASKS[task]


def default_config(task: str = "reach", algo: str = "tqc") -> dict[str, Any]:
    """DEFAULTS updated with the shipped ``<algo>.yml`` entry for the task's env id (``sbx_tqc`` / ``sbx_sac``:
    ``tqc.yml`` / ``sac.yml``, the same hyperparameters, unless a ``sbx_*.yml`` has an entry)."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; choose from {', '.join(ALGOS)}")
    entry = load_hyperparams(algo, env_id(task))
    if not entry and algo.startswith("sbx_"):
        entry = load_hyperparams(algo.removeprefix("sbx_"), env_id(task))
    config = deep_merge(DEFAULTS, entry)
    config["task"], config["algo"] = task, algo
    return config
