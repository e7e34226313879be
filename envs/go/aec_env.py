"""Two-player Go as a PettingZoo AEC environment."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from deep_arena.envs.go import features
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gym_env import check_env_args, parse_action
from deep_arena.envs.go.render import render_env
from deep_arena.envs.validation import check_options, check_seed

AGENTS = ("black", "white")
_COLOUR_OF = {"black": BLACK, "white": WHITE}


def env(board_size: int = 9, komi: float = 7.5, render_mode: str | None = None, **kwargs) -> "GoAECEnv":
    """Two-player Go (agents ``"black"`` and ``"white"``); see `GoAECEnv`."""
    return GoAECEnv(board_size=board_size, komi=komi, render_mode=render_mode, **kwargs)


class GoAECEnv(AECEnv):
    """Two-player Go under CGOS rules, PettingZoo AEC API (agents ``"black"``, ``"white"``; Black moves first).

    ## Observation space
    Per agent ``{"observation": Box(0, 1, (2H+2, N, N), float32), "action_mask": Box(0, 1, (N*N+1,), int8)}`` like
    PettingZoo's classic games. The planes are those of `envs.go.features` from the observing agent's own point of
    view (own stones first, a plane of ones if the agent is Black, its legal moves). The action mask is all zeros for
    the agent that is not to move.

    ## Action space
    ``Discrete(N*N + 1)``, ``row * N + col`` (row 0 at the top), ``N*N`` = pass. Every element can be stepped: with
    the default ``illegal_action="lose"`` a move the rules forbid ends the game as a loss for the mover (as
    PettingZoo's classic games do with their illegal-move wrapper). An action outside the action space, or one that
    is not an integer, raises ``ValueError``.

    ## Rewards and episode end
    | outcome                                           | mover / winner | other / loser |
    |---------------------------------------------------|----------------|---------------|
    | two consecutive passes: the game is scored         | +1 winner      | −1 loser      |
    | draw (integer komi)                               | 0              | 0             |
    | illegal move (occupied, suicide, superko)         | −1 mover       | +1 other      |
    | move cap of 2·N² moves: both truncated            | 0              | 0             |

    Rewards go to the player they belong to. Both agents terminate at the end of a scored game or after an illegal
    move, and are truncated at the move cap. Stepping once both agents have left raises ``RuntimeError``.

    ## Arguments
    | argument          | default  | meaning                                                                      |
    |-------------------|----------|------------------------------------------------------------------------------|
    | `board_size`      | 9        | 5 to 19                                                                      |
    | `komi`            | 7.5      | points given to White                                                        |
    | `illegal_action`  | "lose"   | "lose": an illegal move ends the game (mover −1, other +1); "raise" (for debugging): `IllegalMoveError` (a `ValueError`) naming the reason, nothing played |
    | `history_length`  | 4        | board history planes, 1 to 8                                                 |
    | `max_moves`       | 2·N²     | move cap                                                                     |
    | `render_mode`     | None     | "human" (pygame window) or "rgb_array"                                       |

    ``reset(seed=None, options=None)``: ``seed`` a non-negative integer or None (else ``TypeError``/``ValueError``);
    Go has no randomness, the seed only seeds ``np_random``. ``options`` must be a dict or None (else ``TypeError``);
    the env uses no option, and ignores keys as PettingZoo's classic games do (PettingZoo's ``api_test`` resets with
    an arbitrary one).

    ## Info
    Empty until the game ends; then each agent's info has ``score`` (Black − White − komi) and ``winner`` (1 / −1 /
    0). After an illegal move the mover's info also has ``illegal_action`` (True) and ``illegal_reason``
    ("occupied", "suicide" or "superko"), the keys `arena/Go-v0` and `arena/MoleculeDesign-v0` use.

    Unlike PettingZoo's go_v5, every setting (board size included) is per instance, positional superko is enforced,
    and a tie is a draw, not a White win.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "name": "arena_go_v0", "is_parallelizable": False,
                "render_fps": 4}

    def __init__(self, board_size: int = 9, komi: float = 7.5, render_mode: str | None = None,
                 illegal_action: str = "lose", history_length: int = 4, max_moves: int | None = None):
        super().__init__()
        self.game = GoGame(board_size, komi, max_moves)
        check_env_args(illegal_action, render_mode, self.metadata["render_modes"])
        self.board_size = self.game.board_size
        self.komi = self.game.komi
        self.illegal_action = illegal_action
        self.history_length = features.check_history_length(history_length)
        self.render_mode = render_mode
        n = self.board_size
        self.possible_agents = list(AGENTS)
        self.agents = list(AGENTS)
        obs_space = spaces.Dict({
            "observation": spaces.Box(0.0, 1.0, (features.num_planes(self.history_length), n, n), dtype=np.float32),
            "action_mask": spaces.Box(0, 1, (n * n + 1,), dtype=np.int8),
        })
        self.observation_spaces = {a: obs_space for a in AGENTS}
        self.action_spaces = {a: spaces.Discrete(n * n + 1) for a in AGENTS}
        self._no_moves = np.zeros(n * n + 1, dtype=np.bool_)
        self._message: str | None = None
        self._view = None  # envs.go.render.GoView, made on the first render()
        self._has_reset = False
        self._finished = False

    def observation_space(self, agent: str) -> gymnasium.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        seed = check_seed(seed)
        # Option keys are not checked: PettingZoo's api_test resets with an arbitrary one ({"options": 1}).
        check_options(options, None, type(self).__name__)
        # Go itself has no randomness; the seed is kept so wrappers and samplers can draw from np_random.
        if seed is not None or not hasattr(self, "np_random"):
            self.np_random, _ = gymnasium.utils.seeding.np_random(seed)
        self.game = GoGame(self.board_size, self.komi, self.game.max_moves)
        self.agents = list(AGENTS)
        self.rewards = {a: 0.0 for a in AGENTS}
        self._cumulative_rewards = {a: 0.0 for a in AGENTS}
        self.terminations = {a: False for a in AGENTS}
        self.truncations = {a: False for a in AGENTS}
        self.infos = {a: {} for a in AGENTS}
        self.agent_selection = "black"
        self._message = None
        self._finished = False
        self._has_reset = True
        if self.render_mode == "human":
            self.render()

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        colour = _COLOUR_OF[agent]
        if colour == self.game.to_play and not self._finished:
            legal = self.game._legal_mask_cached()
        else:
            legal = self._no_moves
        return {"observation": features.encode(self.game, self.history_length, colour, legal),
                "action_mask": legal.view(np.int8).copy()}

    def action_mask(self, agent: str | None = None) -> np.ndarray:
        """Bool mask of the legal actions of ``agent`` (default: the agent to move)."""
        agent = self.agent_selection if agent is None else agent
        if _COLOUR_OF[agent] == self.game.to_play and not self._finished:
            return self.game.legal_moves()
        return self._no_moves.copy()

    def step(self, action) -> None:
        if not self._has_reset:
            raise RuntimeError("reset() must be called before step()")
        if not self.agents:
            raise RuntimeError("step() called after the game ended and every agent has left; call reset()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            # PettingZoo's dead-step: the finished agent must step with None to leave.
            if action is not None:
                raise ValueError(f"agent {agent!r} is done; step(None) removes it, got action {action!r}")
            self._was_dead_step(action)
            return
        if type(action) is not int:
            action = parse_action(action)
        self._cumulative_rewards[agent] = 0.0
        for a in self.agents:
            self.rewards[a] = 0.0
        other = "white" if agent == "black" else "black"
        mask = self.game._mask  # known when the agent observed this position: skip re-checking legality
        reason = None if mask is not None and 0 <= action < mask.shape[0] and mask[action] \
            else self.game.legality(action)
        if reason is not None:
            # An action outside the action space is a caller bug, not a Go move: it raises even with "lose".
            if self.illegal_action == "raise" or reason == "off board":
                self.game.play(action)  # raises IllegalMoveError naming the reason
            self.rewards[agent], self.rewards[other] = -1.0, 1.0
            self.terminations = {a: True for a in self.agents}
            end = {"score": self.game.score(), "winner": _COLOUR_OF[other]}
            self.infos[agent] = {**end, "illegal_action": True, "illegal_reason": reason}
            self.infos[other] = dict(end)
            self._finished = True
            self._message = f"Illegal move by {agent} ({reason})"
        else:
            self.game.play(action)
            if self.game.is_over:
                self._finished = True
                if self.game.is_truncated:
                    self.truncations = {a: True for a in self.agents}
                else:
                    winner = self.game.winner
                    self.rewards["black"], self.rewards["white"] = float(winner), float(-winner)
                    self.terminations = {a: True for a in self.agents}
                score = self.game.score()
                for a in self.agents:
                    self.infos[a] = {"score": score, "winner": self.game.winner}
        self.agent_selection = other
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def render(self):
        return render_env(self)

    def close(self) -> None:
        if self._view is not None:
            self._view.close()

    def __getstate__(self) -> dict[str, Any]:
        # copy.deepcopy and pickle: the copy gets no pygame view of its own (made again on its first render()).
        state = self.__dict__.copy()
        state["_view"] = None
        return state

    def state(self) -> np.ndarray:
        """The board (int8 N x N, 1 black, −1 white), for global-state consumers."""
        return self.game.board.copy()
