"""What an evaluation of a robot-arm policy reports: a summary with a 95% Wilson interval and a PNG histogram of the
final goal distances (drawn with pygame, which the env already needs; no matplotlib)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from deep_arena.agents.stats import wilson_interval

SUCCESS_DISTANCE = 0.05  # m, envs.arm.tasks.DISTANCE_THRESHOLD


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """Success rate with its 95% Wilson interval, return and final-distance statistics of
    :func:`agents.arm.sb3_trainer.run_episodes` output (JSON-ready)."""
    successes = np.asarray(result["successes"], dtype=bool)
    n, k = int(successes.size), int(successes.sum())
    lo, hi = wilson_interval(k, n)
    returns = np.asarray(result["returns"], dtype=float)
    dist = np.asarray(result["final_distances"], dtype=float)
    return {
        "episodes": n, "successes": k, "success_rate": k / n if n else 0.0, "success_interval_95": [lo, hi],
        "mean_return": float(returns.mean()) if n else 0.0, "std_return": float(returns.std()) if n else 0.0,
        "mean_final_distance": float(dist.mean()) if n else 0.0,
        "median_final_distance": float(np.median(dist)) if n else 0.0,
        "max_final_distance": float(dist.max()) if n else 0.0,
    }


def summary_line(s: dict[str, Any]) -> str:
    lo, hi = s["success_interval_95"]
    return (f"success rate {s['success_rate']:.3f} ({s['successes']}/{s['episodes']}, 95% Wilson interval "
            f"{lo:.3f}-{hi:.3f}), mean return {s['mean_return']:.2f}, mean final distance "
            f"{100 * s['mean_final_distance']:.1f} cm")


def plot_final_distances(distances, path: str | os.PathLike[str], title: str, summary: dict[str, Any] | None = None,
                         threshold: float = SUCCESS_DISTANCE) -> Path:
    """Save a PNG histogram of final distances (cm), bins under the success threshold green, the rest red, with
    the threshold as a dashed line and the summary written under the title."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame  # lazy: a display library (SDL's dummy driver is chosen above for it), only for this picture

    if not pygame.font.get_init():
        pygame.font.init()
    d = 100.0 * np.asarray(distances, dtype=float)  # cm
    d = d[np.isfinite(d)]
    t = 100.0 * threshold
    top_cm = max(2 * t, float(np.ceil(d.max() / t) * t) if d.size else 2 * t)
    edges = np.linspace(0.0, top_cm, int(round(top_cm / t * 5)) + 1)  # 1 cm bins at the 5 cm threshold
    counts, _ = np.histogram(d, bins=edges)
    width, height = 760, 460
    left, right, top, bottom = 70, 30, 100, 60
    pw, ph = width - left - right, height - top - bottom
    surf = pygame.Surface((width, height))
    surf.fill((255, 255, 255))
    font, small, big = pygame.font.Font(None, 20), pygame.font.Font(None, 17), pygame.font.Font(None, 26)
    black, grey = (20, 20, 20), (150, 150, 150)
    ymax = max(1, int(counts.max()) if counts.size else 1)

    def x_of(cm: float) -> int:
        return left + int(round(pw * cm / top_cm))

    def y_of(c: float) -> int:
        return top + ph - int(round(ph * c / ymax))

    for i, c in enumerate(counts):
        if c == 0:
            continue
        colour = (76, 160, 90) if edges[i + 1] <= t + 1e-9 else (200, 80, 70)
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        pygame.draw.rect(surf, colour, (x0 + 1, y_of(c), max(1, x1 - x0 - 2), top + ph - y_of(c)))
    pygame.draw.line(surf, black, (left, top + ph), (left + pw, top + ph), 2)
    pygame.draw.line(surf, black, (left, top), (left, top + ph), 2)
    for y in range(top, top + ph, 8):  # dashed threshold line
        pygame.draw.line(surf, grey, (x_of(t), y), (x_of(t), min(y + 4, top + ph)), 2)
    surf.blit(small.render(f"success: d <= {t:g} cm", True, grey), (x_of(t) + 6, top - 14))
    step = max(1, int(round(top_cm / 10)))
    for cm in range(0, int(top_cm) + 1, step):
        label = small.render(f"{cm}", True, black)
        surf.blit(label, (x_of(cm) - label.get_width() // 2, top + ph + 6))
    for c in sorted({0, ymax // 2, ymax}):
        label = small.render(str(c), True, black)
        surf.blit(label, (left - 8 - label.get_width(), y_of(c) - label.get_height() // 2))
    xl = font.render("final distance to the goal (cm)", True, black)
    surf.blit(xl, (left + pw // 2 - xl.get_width() // 2, height - 28))
    yl = pygame.transform.rotate(font.render("episodes", True, black), 90)
    surf.blit(yl, (12, top + ph // 2 - yl.get_height() // 2))
    surf.blit(big.render(title, True, black), (left, 14))
    if summary is not None:  # two lines: the rate with its interval, then return and distance
        rate, _, rest = summary_line(summary).partition("), ")
        surf.blit(font.render(rate + ")", True, black), (left, 42))
        surf.blit(font.render(rest, True, black), (left, 62))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surf, str(path))
    return path


def plot_coverage(goals, reached, path: str | os.PathLike[str], title: str) -> Path:
    """Save a PNG of a coverage test: the test goals seen from above (x, y), one panel per height level, reached
    goals green and missed ones red."""
    import matplotlib  # lazy: slow, and selecting Agg at this module's import would change the caller's backend

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as matplotlib above

    goals, reached = np.asarray(goals, dtype=float), np.asarray(reached, dtype=bool)
    levels = np.unique(np.round(goals[:, 2], 4))
    fig, axes = plt.subplots(1, len(levels), figsize=(2.6 * len(levels) + 0.6, 3.0), dpi=100, squeeze=False)
    for ax, z in zip(axes[0], levels):
        at = np.isclose(goals[:, 2], z, atol=1e-4)
        ax.scatter(goals[at & reached, 0], goals[at & reached, 1], c="tab:green", s=60, marker="o", label="reached")
        ax.scatter(goals[at & ~reached, 0], goals[at & ~reached, 1], c="tab:red", s=60, marker="x", label="missed")
        ax.set_title(f"z = {z:.2f} m: {int(reached[at].sum())}/{int(at.sum())}", fontsize=9)
        ax.set_xlabel("x (m)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_aspect("equal", adjustable="datalim")
    axes[0][0].set_ylabel("y (m)", fontsize=8)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
