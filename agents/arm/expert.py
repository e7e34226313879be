"""Scripted experts for `arena/ArmPush-v0` and `arena/ArmPickAndPlace-v0` and the "expert start" that uses them
(Nair et al., 2018).

Push is the arm task where sparse-reward TQC + HER spends most of its budget finding the cube at all (rl-zoo trains
FetchPush for about 1M steps). The expert start gives the off-policy learner what a person would: before the first
agent step, ``expert.episodes`` episodes of a scripted controller go into the replay buffer (HER relabels them like
any others), the actor is fitted to the expert's actions (``expert.bc_steps``), DAgger rounds (Ross et al., 2011)
let the cloned policy play, have the expert label the states it reached and refit on the growing set
(``expert.dagger_rounds`` x ``expert.dagger_episodes``; the policy's own episodes also go into the replay buffer),
and the critics are fitted to the data with the actor held fixed (``expert.critic_steps``), so the first
policy-gradient steps follow a critic that has seen pushing work. Then TQC + HER trains as usual, optionally with a
cloning term in the actor loss (``expert.bc_alpha``). The networks' inputs are standardised with the
demonstrations' statistics (``expert.normalise_inputs``, :class:`NormalisedDictExtractor`).

The controller reads only the public observation (see :class:`envs.arm.env.ArmEnv`: grip point at 0-2, cube at
8-10, goal in ``desired_goal``). Fingers closed, it rises and travels at hover height to a point 6 cm behind the
cube on the goal-to-cube line, goes down to the table, and pushes towards the goal at a capped speed (momentum on
the table carries the cube on), re-aiming from wherever the cube is; when the cube drifts sideways off the fingers
it backs away, rises and comes round again. It solves about 96 % of default Push episodes.

The pick-and-place controller (:func:`scripted_pick_and_place_action`) is as stateless: fingers open, it travels
8 cm above the cube, goes down until the finger pads straddle the cube's centre, closes, and once the fingers rest
on the cube (gap 4-7.5 cm, near the grip point) lifts it straight up, carries it at a capped speed
(``carry_speed``, 0.3: 1.5 cm per step) at the goal's height (at least 7 cm above the table) and lowers it onto the
goal; a cube dropped on the way is fetched again. It solves 994 of 1,000 default episodes (seeds 10,000,000 on).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

HOVER_Z = 0.48        # travel height of the grip point (the cube's top is at 0.45)
LOW_Z = 0.425         # pushing height: the cube's centre (the controller clips targets at z >= 0.42)
BEHIND = 0.06         # approach point: this far behind the cube's centre on the goal-to-cube line (m)
STEP = 0.05           # metres of grip-point motion for an action component of 1 (envs.arm.sim.EE_STEP)


def scripted_push_action(obs: dict[str, np.ndarray], push_speed: float = 0.3) -> np.ndarray:
    """The expert's action (dx, dy, dz, gripper) for one `ArmPush` observation; ``push_speed`` caps the action
    while pushing (0.3: 1.5 cm per step)."""
    o, goal = np.asarray(obs["observation"], dtype=np.float64), np.asarray(obs["desired_goal"], dtype=np.float64)
    grip, cube = o[0:3], o[8:11]
    to_goal = goal[:2] - cube[:2]
    dist = float(np.linalg.norm(to_goal))
    u = to_goal / max(dist, 1e-6)
    rel = grip[:2] - cube[:2]
    near = float(np.linalg.norm(rel))
    along, lateral = float(rel @ u), float(rel[0] * u[1] - rel[1] * u[0])
    approach = cube[:2] - u * BEHIND
    cap = 1.0
    if dist < 0.015:                                   # there: hold still
        target = grip.copy()
    elif along < -0.028 and abs(lateral) < 0.02:       # behind the cube, in line with the goal
        if grip[2] > LOW_Z + 0.015:
            target = np.array([*approach, LOW_Z])
        else:                                          # push, aiming from the cube's current place
            target = np.array([*(cube[:2] + u * (-0.035 + min(0.02, dist))), LOW_Z])
            cap = min(push_speed, max(0.1, dist / 0.1))
    elif grip[2] < 0.46 and near < 0.07:               # low beside the cube: back away before rising
        target = np.array([*(cube[:2] + rel / max(near, 1e-6) * 0.08), grip[2] + 0.01])
        cap = 0.5
    elif float(np.linalg.norm(grip[:2] - approach)) > 0.015:
        # rise straight up first, then travel at hover height: never sweep through the cube
        target = np.array([*grip[:2], HOVER_Z]) if grip[2] < HOVER_Z - 0.015 else np.array([*approach, HOVER_Z])
    else:
        target = np.array([*approach, LOW_Z])
    move = np.clip((target - grip) / STEP, -cap, cap)
    return np.array([*move, -1.0], dtype=np.float32)


PICK_ABOVE = 0.08     # approach height above the cube's centre (m)
CARRY_MIN_Z = 0.47    # carrying height: at least 7 cm above the table top (z = 0.4)


def scripted_pick_and_place_action(obs: dict[str, np.ndarray], carry_speed: float = 0.3) -> np.ndarray:
    """The expert's action (dx, dy, dz, gripper) for one `ArmPickAndPlace` observation; ``carry_speed`` caps the
    action while the cube is held (faster carrying flings it: 0.35 solves 97 %, 0.8 about 69 %)."""
    o, goal = np.asarray(obs["observation"], dtype=np.float64), np.asarray(obs["desired_goal"], dtype=np.float64)
    grip, gap, gap_rate, cube = o[0:3], float(o[6]), float(o[7]), o[8:11]
    rel = cube - grip
    dxy = float(np.linalg.norm(rel[:2]))
    held = 0.04 < gap < 0.075 and abs(gap_rate) < 0.3 and dxy < 0.02 and abs(rel[2]) < 0.02
    cap = 1.0
    if held:
        offset, cap, grip_cmd = grip - cube, carry_speed, -1.0
        if float(np.linalg.norm(cube[:2] - goal[:2])) > 0.03:
            height = max(float(goal[2]), CARRY_MIN_Z)
            if cube[2] < CARRY_MIN_Z - 0.02:          # lift straight up first
                target = np.array([grip[0], grip[1], height + offset[2]])
            else:                                     # carry at the goal's height
                target = np.array([goal[0], goal[1], height]) + offset
        else:                                         # over the goal: put it there
            target = goal + offset
    elif dxy < 0.012:                                 # over (or at) the cube
        if gap < 0.08 and rel[2] < -0.03:             # open before going down
            target, grip_cmd = np.array([cube[0], cube[1], grip[2]]), 1.0
        elif rel[2] < -0.008:                         # go down, open
            target, grip_cmd = cube.copy(), 1.0
        elif gap < 0.035 and abs(gap_rate) < 0.05:    # closed on nothing: open again
            target, grip_cmd = cube.copy(), 1.0
        else:                                         # close on it
            target, grip_cmd = cube.copy(), -1.0
    else:
        if grip[2] < cube[2] + 0.05 and dxy < 0.06:   # low beside it: rise first
            target = np.array([grip[0], grip[1], cube[2] + PICK_ABOVE])
        else:
            target = np.array([cube[0], cube[1], cube[2] + PICK_ABOVE])
        grip_cmd = 1.0
    move = np.clip((target - grip) / STEP, -cap, cap)
    return np.array([*move, grip_cmd], dtype=np.float32)


def expert_policy(task: str, speed: float):
    """The scripted expert of ``task`` (``"push"`` or ``"pick_and_place"``) as ``act(obs) -> action``, ``speed``
    its push or carry speed cap; ``ValueError`` for a task without one."""
    if task == "push":
        return lambda obs: scripted_push_action(obs, speed)
    if task == "pick_and_place":
        return lambda obs: scripted_pick_and_place_action(obs, speed)
    raise ValueError(f"no scripted expert for task {task!r}; there are for push and pick_and_place")


def play_episodes(env, episodes: int, seed: int, act) -> dict[str, Any]:
    """Play ``episodes`` episodes in ``env`` (a TimeLimit-wrapped `ArmPush`; episode ``i`` resets with ``seed + i``),
    choosing each action with ``act(obs)``. Returns ``{"transitions": [(obs, next_obs, action, reward, terminated,
    truncated), ...], "successes": array}``."""
    transitions, successes = [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done, info = False, {}
        while not done:
            action = np.asarray(act(obs), dtype=np.float32)
            next_obs, reward, terminated, truncated, info = env.step(action)
            transitions.append((obs, next_obs, action, float(reward), bool(terminated), bool(truncated)))
            obs, done = next_obs, terminated or truncated
        successes.append(bool(info.get("is_success", False)))
    return {"transitions": transitions, "successes": np.asarray(successes)}


def collect_demonstrations(env, episodes: int, seed: int, push_speed: float = 0.3,
                           task: str = "push") -> dict[str, Any]:
    """``episodes`` episodes of ``task``'s scripted expert (see :func:`play_episodes`), ``push_speed`` its speed
    cap (pushing or carrying)."""
    return play_episodes(env, episodes, seed, expert_policy(task, push_speed))


def add_to_replay_buffer(model, transitions) -> None:
    """Store expert transitions in an off-policy SB3 model's (HER) replay buffer as one env's episodes."""
    buffer = model.replay_buffer
    if buffer.n_envs != 1:
        raise ValueError(f"expert demonstrations fill a one-env replay buffer; this one has {buffer.n_envs} envs")
    for obs, next_obs, action, reward, terminated, truncated in transitions:
        batch = {k: np.asarray(v)[None] for k, v in obs.items()}
        next_batch = {k: np.asarray(v)[None] for k, v in next_obs.items()}
        buffer.add(batch, next_batch, np.asarray(action)[None], np.array([reward]),
                   np.array([terminated or truncated]), [{"TimeLimit.truncated": truncated and not terminated}])


def labelled_states(transitions, push_speed: float = 0.3,
                    task: str = "push") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The states of ``transitions`` stacked per observation key, each labelled with the expert's action there
    (for the expert's own transitions that is the action taken; for the agent's, DAgger's query)."""
    keys = list(transitions[0][0])
    obs = {k: np.stack([t[0][k] for t in transitions]).astype(np.float32) for k in keys}
    act = expert_policy(task, push_speed)
    actions = np.stack([act(t[0]) for t in transitions]).astype(np.float32)
    return obs, actions


def policy_rollouts(model, env, episodes: int, seed: int) -> dict[str, Any]:
    """``episodes`` episodes of the model's deterministic policy (see :func:`play_episodes`)."""
    return play_episodes(env, episodes, seed, lambda obs: model.predict(obs, deterministic=True)[0])


def behaviour_cloning(model, obs: dict[str, np.ndarray], actions: np.ndarray, steps: int, batch_size: int = 256,
                      lr: float = 1e-3, seed: int = 0) -> list[float]:
    """Fit the actor of a SAC/TQC ``model`` to the expert: its deterministic action (tanh of the Gaussian mean) by
    squared error, and its exploration noise by the likelihood of the expert actions around that mean (mean held
    fixed there, so the noise matches the cloning error). Returns the squared-error losses.

    Squared error rather than a full likelihood fit: the expert saturates many components at +-1, which tanh
    reaches only at infinity, and a likelihood fit chases those at the cost of the rest (it cloned a policy with
    2 % success where squared error gave about 55 %)."""
    if steps <= 0:
        return []
    actor = model.actor
    inside = np.clip(actions, -0.97, 0.97)   # finite likelihood under tanh for the noise fit
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(actor.parameters(), lr=lr)
    losses = []
    actor.set_training_mode(True)
    for _ in range(steps):
        idx = rng.integers(len(actions), size=batch_size)
        obs_t, _ = model.policy.obs_to_tensor({k: v[idx] for k, v in obs.items()})
        mean, log_std, kwargs = actor.get_action_dist_params(obs_t)
        mse = ((torch.tanh(mean) - torch.as_tensor(actions[idx], device=model.device)) ** 2).mean()
        dist = actor.action_dist.proba_distribution(mean.detach(), log_std, **kwargs)
        nll = -dist.log_prob(torch.as_tensor(inside[idx], device=model.device)).mean()
        loss = mse + 0.01 * nll
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(mse.item())
    actor.set_training_mode(False)
    return losses


def critic_warmup(model, steps: int, batch_size: int | None = None) -> None:
    """``steps`` gradient steps of the model's own ``train()`` on its replay buffer with the actor (and the entropy
    coefficient) held fixed, so that the critics learn the value of the cloned policy before it follows them."""
    if steps <= 0:
        return
    frozen = [model.actor.optimizer]
    if getattr(model, "ent_coef_optimizer", None) is not None:
        frozen.append(model.ent_coef_optimizer)
    for opt in frozen:
        opt.step = lambda *args, **kwargs: None   # instance attribute shadows Adam.step for the warm-up only
    try:
        model.train(gradient_steps=steps, batch_size=batch_size or model.batch_size)
    finally:
        for opt in frozen:
            del opt.step


class ClonedActionRegulariser:
    """Keeps the actor near the expert while it learns from the critic: before each actor optimizer step, adds the
    gradient of ``(mean |Q| / alpha) * |pi(s) - a_expert|^2`` on a batch of labelled states (TD3+BC's weighting,
    Fujimoto & Gu 2021). With ``q_filter`` the term counts only where the critic rates the expert's action above
    the actor's (Nair et al.), leaving the actor free to beat the expert where the critic says it does; on Push the
    young critic overrates the actor's own actions (the filter passed 4 % of expert states after 1,500 updates and
    the policy fell from the clone's level to 0 % success), so it is off by default.

    Installed by shadowing the actor optimizer's ``step`` (SB3's ``train()`` calls ``backward`` on the actor loss
    and then ``step``); :meth:`remove` undoes it. ``stats`` holds the last batch's loss and Q-filter pass rate.
    """

    def __init__(self, model, obs: dict[str, np.ndarray], actions: np.ndarray, alpha: float = 2.5,
                 batch_size: int = 128, seed: int = 0, q_filter: bool = False):
        self.model, self.alpha, self.batch_size, self.q_filter = model, float(alpha), int(batch_size), bool(q_filter)
        self.obs, self.actions = obs, actions
        self.rng = np.random.default_rng(seed)
        self.stats: dict[str, float] = {}
        self.optimizer = model.actor.optimizer
        self._real_step = self.optimizer.step
        self.optimizer.step = self._step

    def _q(self, obs, actions):
        q = self.model.critic(obs, actions)
        # TQC: (batch, critics, quantiles); SAC: a tuple of (batch, 1)
        return q.mean(dim=(1, 2)) if isinstance(q, torch.Tensor) else torch.cat(q, dim=1).mean(dim=1)

    def _step(self, *args, **kwargs):
        model, actor = self.model, self.model.actor
        idx = self.rng.integers(len(self.actions), size=self.batch_size)
        obs, _ = model.policy.obs_to_tensor({k: v[idx] for k, v in self.obs.items()})
        expert = torch.as_tensor(self.actions[idx], device=model.device)
        mean, _, _ = actor.get_action_dist_params(obs)
        pi = torch.tanh(mean)
        with torch.no_grad():
            q_pi, q_expert = self._q(obs, pi), self._q(obs, expert)
            keep = (q_expert > q_pi).float() if self.q_filter else torch.ones_like(q_pi)
            weight = q_pi.abs().mean() / self.alpha
        loss = weight * (keep * ((pi - expert) ** 2).sum(dim=1)).mean()
        loss.backward()   # adds to the gradients of the actor loss already there
        self.stats = {"loss": loss.item(), "q_filter_pass": keep.mean().item()}
        return self._real_step(*args, **kwargs)

    def remove(self) -> None:
        if vars(self.optimizer).get("step") == self._step:
            del self.optimizer.step


class NormalisedDictExtractor(BaseFeaturesExtractor):
    """SB3 features extractor for Dict observations: the keys flattened and concatenated (as SB3's
    ``CombinedExtractor`` does for vectors), then standardised with a fixed mean and std and clipped to +-5 (as the
    HER baselines normalise inputs). The statistics are buffers, so they are saved and loaded with the policy; they
    start at 0 and 1 (no change) and :func:`set_input_statistics` fills them from data.

    Why: positions on a 0.3 m workspace and centimetre offsets are tiny raw inputs; standardised, a network tells
    "behind the cube" from "beside it" much sooner."""

    def __init__(self, observation_space) -> None:
        keys = sorted(observation_space.spaces)
        dim = int(sum(np.prod(observation_space.spaces[k].shape) for k in keys))
        super().__init__(observation_space, features_dim=dim)
        self.keys = keys
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def flat(self, observations):
        return torch.cat([observations[k].flatten(1).float() for k in self.keys], dim=1)

    def forward(self, observations):
        return torch.clamp((self.flat(observations) - self.mean) / self.std, -5.0, 5.0)


def set_input_statistics(model, obs: dict[str, np.ndarray]) -> int:
    """Fill every :class:`NormalisedDictExtractor` of ``model``'s policy with the mean and std of ``obs`` (std
    floored at 1e-3 for constant inputs). Returns how many extractors were set."""
    extractors = [m for m in model.policy.modules() if isinstance(m, NormalisedDictExtractor)]
    for ex in extractors:
        x = np.concatenate([obs[k].reshape(len(obs[k]), -1) for k in ex.keys], axis=1).astype(np.float32)
        with torch.no_grad():
            ex.mean.copy_(torch.as_tensor(x.mean(axis=0)))
            ex.std.copy_(torch.as_tensor(np.maximum(x.std(axis=0), 1e-3)))
    return len(extractors)
