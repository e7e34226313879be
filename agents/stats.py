"""Statistics shared by every evaluation (Go matches, arm and molecule success rates): the Wilson score interval of a
rate and the Elo difference implied by a score rate."""

from __future__ import annotations

import math

__all__ = ["elo_diff", "elo_text", "wilson_interval"]


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a success rate of ``successes / n`` (``z = 1.96``: 95%).

    ``successes`` may be fractional (draws counted as half a win). With ``n == 0`` nothing is known: ``(0, 1)``.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _clip_rate(p: float, games: int | None) -> float:
    """A rate of exactly 0 or 1 moved inside (0, 1): by half a game out of ``games``, else by 0.001."""
    eps = 0.5 / games if games else 1e-3
    return min(max(p, eps), 1.0 - eps)


def elo_diff(score_rate: float, games: int | None = None) -> float:
    """Elo difference implied by an expected score: ``-400 * log10(1 / p - 1)`` (0.5 -> 0, 0.75 -> +190.8).

    A rate of 0 or 1 means an infinite difference; it is clipped to half a game from the end when ``games`` is
    given (``1 - 1 / (2 * games)``), else to 0.001 from it, and the result is then only a bound (see
    :func:`elo_text`).
    """
    if not 0.0 <= score_rate <= 1.0:
        raise ValueError(f"score rate must be from 0 to 1, got {score_rate}")
    p = _clip_rate(score_rate, games)
    return -400.0 * math.log10(1.0 / p - 1.0) + 0.0  # + 0.0: no "-0.0" at p = 0.5


def elo_text(score_rate: float, games: int | None = None) -> str:
    """Signed Elo difference as text: ``"+190.8"``, or a bound ``">= +511.5"`` / ``"<= -511.5"`` at a rate of 1 or 0."""
    value = elo_diff(score_rate, games)
    prefix = ">= " if score_rate >= 1.0 else ("<= " if score_rate <= 0.0 else "")
    return f"{prefix}{value:+.1f}"
