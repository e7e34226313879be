"""Go: a CGOS-rules engine (`GoGame`), a single-agent Gymnasium env (`arena/Go-v0`), a two-player PettingZoo AEC
env (`envs.go.env`), a pygame goban (`envs.go.render`), SGF (`envs.go.sgf`), a GTP engine (`envs.go.gtp`),
a GTP client (`envs.go.gtp_client`) and GNU Go (`envs.go.gnugo`)."""

from deep_arena.envs.go.game import BLACK, EMPTY, WHITE, GoGame, IllegalMoveError


def env(board_size: int = 9, komi: float = 7.5, render_mode: str | None = None, **kwargs):
    """Two-player PettingZoo AEC Go env (agents ``"black"``, ``"white"``); see `envs.go.aec_env.GoAECEnv`."""
    from deep_arena.envs.go.aec_env import GoAECEnv  # lazy: PettingZoo (a quarter second), only when this env is made

    return GoAECEnv(board_size=board_size, komi=komi, render_mode=render_mode, **kwargs)


__all__ = ["BLACK", "WHITE", "EMPTY", "GoGame", "IllegalMoveError", "env"]
