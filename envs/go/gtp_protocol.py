"""Go Text Protocol (GTP version 2) wire format shared by our engine (`envs.go.gtp`) and our clients of other
engines (`envs.go.gtp_client`, `envs.go.gnugo`): colours, scores, numbers and command-line preprocessing.

Vertices (``D4`` <-> action numbers) are in `envs.go.coords`. This module imports nothing but NumPy and the
colour constants of `envs.go.game`, so every GTP module can depend on it without import circles.
"""

from __future__ import annotations

import numpy as np

from deep_arena.envs.go.game import BLACK, WHITE

__all__ = [
    "PROTOCOL_VERSION",
    "colour_name",
    "format_score",
    "number_text",
    "parse_colour",
    "parse_score",
    "preprocess",
]

PROTOCOL_VERSION = 2

_COLOURS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}


def parse_colour(text: str) -> int:
    """GTP colour (``b``, ``w``, ``black``, ``white``; any case) -> 1 or -1. Raises ``ValueError`` otherwise."""
    try:
        return _COLOURS[text.lower()]
    except KeyError:
        raise ValueError(f"invalid colour {text!r}") from None


def colour_name(colour: int) -> str:
    """1 -> ``"black"``, -1 -> ``"white"`` (the GTP spelling). Raises ``ValueError`` for anything else."""
    if colour == BLACK:
        return "black"
    if colour == WHITE:
        return "white"
    raise ValueError(f"colour must be {BLACK} (black) or {WHITE} (white), got {colour!r}")


def number_text(value: float) -> str:
    """``3.5`` -> ``"3.5"``, ``25.0`` -> ``"25"``: the shortest exact decimal."""
    return f"{value:.10g}"


def format_score(score: float) -> str:
    """A score from Black's point of view (``black - white - komi``) -> GTP ``final_score`` text.

    ``3.5`` -> ``"B+3.5"``, ``-0.5`` -> ``"W+0.5"``, ``0`` -> ``"0"``.
    """
    if score > 0:
        return f"B+{number_text(score)}"
    if score < 0:
        return f"W+{number_text(-score)}"
    return "0"


def parse_score(text: str) -> float:
    """GTP ``final_score`` text -> score from Black's point of view (the inverse of :func:`format_score`).

    Accepts ``"B+3.5"``, ``"W+0.5"``, ``"0"``, and ``"B+R"`` / ``"W+Resign"`` (-> +/- infinity).
    Raises ``ValueError`` for anything else.
    """
    t = text.strip().upper()
    if t in ("0", "DRAW", "JIGO"):
        return 0.0
    if len(t) >= 3 and t[0] in "BW" and t[1] == "+":
        sign = 1.0 if t[0] == "B" else -1.0
        rest = t[2:]
        if rest in ("R", "RESIGN"):
            return sign * float("inf")
        try:
            value = float(rest)
        except ValueError:
            pass
        else:
            if np.isfinite(value) and value >= 0:
                return sign * value
    raise ValueError(f"invalid score {text!r}")


def preprocess(line: str) -> str:
    """GTP preprocessing: drop control characters (keeping tab and newline), cut the comment, tabs -> spaces,
    strip. A command is one line, so an embedded newline is treated as a space (never a second command).
    An empty result means the line holds no command (an engine answers nothing)."""
    kept = "".join(ch for ch in line if ch in "\t\n" or not (ord(ch) < 32 or ord(ch) == 127))
    kept = kept.split("#", 1)[0]
    return kept.replace("\t", " ").replace("\n", " ").strip()
