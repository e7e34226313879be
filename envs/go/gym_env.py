"""Single-agent Gymnasium Go environment: the agent plays one colour, the env answers with an opponent."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from deep_arena.envs.go import features
from deep_arena.envs.go.game import BLACK, WHITE, GoGame, IllegalMoveError
from deep_arena.envs.go.opponents import RESIGN, Opponent, make_opponent
from deep_arena.envs.go.render import render_env
from deep_arena.envs.validation import check_options, check_seed

_COLOURS = {"black": BLACK, "white": WHITE}


def parse_action(action: Any) -> int:
    """An integer action from an int, a NumPy integer or a one-element integer array; ValueError otherwise
    (floats, NaN and strings are rejected rather than silently truncated)."""
    if isinstance(action, np.ndarray):
        if action.size != 1:
            raise ValueError(f"expected one integer action, got an array of shape {action.shape}")
        action = action.reshape(()).item() if np.issubdtype(action.dtype, np.integer) else action.reshape(())
    if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
        raise ValueError(f"expected an integer action, got {action!r} ({type(action).__name__})")
    return int(action)


def check_env_args(illegal_action: str, render_mode: str | None, render_modes: list[str]) -> None:
    """The constructor checks both Go envs share (ValueError naming the bad value)."""
    if illegal_action not in ("raise", "lose"):
        raise ValueError(f"illegal_action must be 'raise' or 'lose', got {illegal_action!r}")
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"render_mode must be one of {render_modes} or None, got {render_mode!r}")


class GoEnv(gym.Env):
    """Go against an opponent, under CGOS rules (area scoring, positional superko, suicide illegal).

    ## Description
    The agent plays one colour; after each agent move the env plays the opponent's reply, so every observation is
    a position where the agent is to move. Rules are those of `envs.go.GoGame`: Tromp-Taylor area scoring, komi
    (7.5 by default; a tie with an integer komi is a draw), positional superko, suicide illegal, two consecutive
    passes end the game, and a cap of 2·N² moves (passes included) truncates it.

    ## Action space
    `Discrete(N*N + 1)`: `action = row * N + col` with row 0 at the top, and `N*N` is pass. Every element of the
    action space can be stepped: with the default `illegal_action="lose"` a move the rules forbid (an occupied point,
    suicide, a superko repetition) ends the episode as a loss, so learners that ignore masks (DQN, plain PPO) run.
    The legal moves are in `action_masks()` (sb3-contrib MaskablePPO) and `info["action_mask"]`.

    | action            | meaning                          |
    |-------------------|----------------------------------|
    | 0 .. N*N-1        | place a stone at (row, col)      |
    | N*N               | pass                             |

    ## Observation space
    `Box(0, 1, (2H + 2, N, N), float32)` with `H = history_length` (default 4), from the agent's point of view:

    | plane        | content                                                       |
    |--------------|---------------------------------------------------------------|
    | 0 .. H-1     | agent's stones now and at the H-1 previous moves               |
    | H .. 2H-1    | opponent's stones at the same times                            |
    | 2H           | all ones if the agent plays Black in this episode, else zeros  |
    | 2H + 1       | the agent's legal moves (pass is in `info["action_mask"]`)     |

    ## Rewards
    | outcome                                   | reward |
    |-------------------------------------------|--------|
    | game ends, agent wins on Tromp-Taylor area | +1     |
    | game ends, agent loses, or plays an illegal move (default `illegal_action="lose"`) | −1 |
    | draw (integer komi), or any non-final step | 0      |
    | truncated by the move cap                  | 0      |
    | opponent resigns (GNU Go may)              | +1     |

    ## Episode end
    `terminated` after two consecutive passes, an opponent's resignation, or an illegal agent move (with the
    default `illegal_action="lose"`; the position is left as it was). `truncated` when the move cap (2·N² moves,
    passes included) is reached; the score at that point is in `info["score"]` but no reward is given, as the game
    did not finish.

    ## Arguments
    | argument          | default    | meaning                                                              |
    |-------------------|------------|----------------------------------------------------------------------|
    | `board_size`      | 9          | 5 to 19                                                              |
    | `komi`            | 7.5        | points given to White                                                |
    | `opponent`        | "random"   | "random", "gnugo:LEVEL" (0–10) or a callable `policy(game) -> action` |
    | `agent_color`     | "black"    | "black", "white", or "random" (drawn per episode from the env's RNG) |
    | `illegal_action`  | "lose"     | "lose": an illegal move ends the episode with −1 and `info["illegal_action"]`; "raise" (for debugging): `IllegalMoveError` (a `ValueError`) naming the reason, nothing played. An action outside the action space (or not an integer) always raises `ValueError` |
    | `history_length`  | 4          | board history planes, 1 to 8                                         |
    | `max_moves`       | 2·N²       | move cap                                                             |
    | `render_mode`     | None       | "human" (pygame window) or "rgb_array"                               |

    ## Reset
    `reset(seed=None, options=None)`: `seed` a non-negative integer or None (else `TypeError`/`ValueError`); the
    env takes no options, so any key in `options` raises `ValueError` (a non-dict `TypeError`).

    ## Info
    | key              | when         | value                                                                  |
    |------------------|--------------|------------------------------------------------------------------------|
    | `action_mask`    | always       | bool (N*N+1,): the agent's legal moves, all False once the episode ended |
    | `agent_color`    | always       | 1 (Black) or −1 (White)                                               |
    | `move_number`    | always       | moves played so far, passes included                                   |
    | `score`          | always       | Black − White − komi on the current board (Tromp-Taylor area)          |
    | `captures`       | always       | stones captured so far, `{1: by Black, −1: by White}`                  |
    | `illegal_action` | always       | True on the step whose action was illegal (the episode then ends), else False |
    | `illegal_reason` | illegal step | "occupied", "suicide" or "superko"                                     |
    | `winner`         | episode end  | 1 / −1 / 0 (draw); the opponent's colour after an illegal move or the agent's after a resignation |
    | `resigned`       | resignation  | the colour that resigned ("black" / "white")                           |

    ## Version history
    * v0: initial release.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 4}

    def __init__(self, board_size: int = 9, komi: float = 7.5, opponent: str | Callable | Opponent = "random",
                 agent_color: str = "black", illegal_action: str = "lose", history_length: int = 4,
                 max_moves: int | None = None, render_mode: str | None = None):
        self.game = GoGame(board_size, komi, max_moves)  # validates size, komi and cap
        if agent_color not in ("black", "white", "random"):
            raise ValueError(f"agent_color must be 'black', 'white' or 'random', got {agent_color!r}")
        check_env_args(illegal_action, render_mode, self.metadata["render_modes"])
        self.board_size = self.game.board_size
        self.komi = self.game.komi
        self.agent_color_mode = agent_color
        self.illegal_action = illegal_action
        self.history_length = features.check_history_length(history_length)
        self.render_mode = render_mode
        self.opponent = make_opponent(opponent, self.board_size, self.komi)
        n = self.board_size
        self.action_space = spaces.Discrete(n * n + 1)
        self.observation_space = spaces.Box(0.0, 1.0, (features.num_planes(self.history_length), n, n),
                                            dtype=np.float32)
        self.agent_color = BLACK
        self._message: str | None = None
        self._end_info: dict[str, Any] | None = None  # set by reset(); None means reset() has not been called
        self._view = None  # envs.go.render.GoView, made on the first render()

    # -- Gymnasium API ---------------------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = check_seed(seed)
        check_options(options, (), type(self).__name__)
        super().reset(seed=seed)
        self.game = GoGame(self.board_size, self.komi, self.game.max_moves)
        if self.agent_color_mode == "random":
            self.agent_color = BLACK if self.np_random.integers(2) == 0 else WHITE
        else:
            self.agent_color = _COLOURS[self.agent_color_mode]
        self._message = None
        self._end_info: dict[str, Any] = {}
        self.opponent.reset(self.game, int(self.np_random.integers(2**31)))
        if self.agent_color == WHITE:
            self._opponent_move()
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info()

    def step(self, action):
        if self._end_info is None:
            raise RuntimeError("reset() must be called before step()")
        if self.game.is_over or self._end_info:
            raise RuntimeError("step() called after the episode ended; call reset()")
        action = parse_action(action)
        reason = self.game.legality(action)
        if reason is not None:
            # An action outside the action space is a caller bug, not a Go move: it raises even with "lose".
            if self.illegal_action == "raise" or reason == "off board":
                self.game.play(action)  # raises IllegalMoveError with the full explanation
            self._end_info = {"illegal_action": True, "illegal_reason": reason}
            self._message = f"Illegal move ({reason}): agent loses"
            return self._observe(), -1.0, True, False, self._info()
        self._commit(action)
        if not self.game.is_over:
            self._opponent_move()
        reward, terminated, truncated = 0.0, False, False
        if self._end_info.get("resigned"):
            reward, terminated = 1.0, True
        elif self.game.is_over:
            truncated = self.game.is_truncated
            terminated = not truncated
            if terminated:
                reward = float(self.game.winner * self.agent_color)
        if self.render_mode == "human":
            self.render()
        return self._observe(), reward, terminated, truncated, self._info()

    def action_masks(self) -> np.ndarray:
        """Legal actions for the agent (sb3-contrib MaskablePPO reads this); all False once the episode ended,
        like ``info["action_mask"]``."""
        if self._end_info:
            return np.zeros(self.board_size**2 + 1, dtype=np.bool_)
        return self.game.legal_moves()

    # -- internals -------------------------------------------------------------------------------------------------

    def _commit(self, action: int) -> None:
        colour = self.game.to_play
        self.game.play(action)
        self.opponent.observe(colour, action)

    def _opponent_move(self) -> None:
        action = self.opponent.act(self.game, self.np_random)
        if action == RESIGN:
            self._end_info = {"resigned": "black" if self.game.to_play == BLACK else "white"}
            self._message = f"{self.opponent.name} resigns"
            return
        try:
            action = parse_action(action)
        except ValueError as err:
            raise RuntimeError(f"opponent {self.opponent.name!r} returned a bad action: {err}") from None
        reason = self.game.legality(action)
        if reason is not None:
            raise RuntimeError(f"opponent {self.opponent.name!r} chose an illegal move {action} ({reason})")
        self._commit(action)

    def _observe(self) -> np.ndarray:
        legal = None
        if self.game.to_play != self.agent_color or self.game.is_over or self._end_info:
            legal = np.zeros(self.board_size**2 + 1, dtype=np.bool_)
        return features.encode(self.game, self.history_length, self.agent_color, legal)

    def _info(self) -> dict[str, Any]:
        finished = self.game.is_over or bool(self._end_info)
        info: dict[str, Any] = {
            "action_mask": (np.zeros(self.board_size**2 + 1, dtype=np.bool_) if finished
                            else self.game.legal_moves()),
            "agent_color": self.agent_color,
            "move_number": self.game.move_number,
            "score": self.game.score(),
            "captures": dict(self.game.captures),
            "illegal_action": False,
        }
        if finished:
            info.update(self._end_info)
            if "resigned" in self._end_info:
                info["winner"] = self.agent_color
            elif "illegal_reason" in self._end_info:
                info["winner"] = -self.agent_color
            else:
                info["winner"] = self.game.winner
        return info

    def __getstate__(self) -> dict[str, Any]:
        # copy.deepcopy and pickle: the copy gets no pygame view of its own (made again on its first render()).
        state = self.__dict__.copy()
        state["_view"] = None
        return state

    # -- rendering -------------------------------------------------------------------------------------------------

    def render(self):
        return render_env(self)

    def close(self):
        if self._view is not None:
            self._view.close()
        self.opponent.close()
