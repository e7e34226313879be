"""The task registry: what the generic commands (``arena-train``, ``arena-evaluate``, ``arena-play``, ``make demo``)
need to know about each environment family, declared once in that family's own ``agents/<family>/task.py``.

A family (Go, the robot arm, molecule design, or one you add) registers a :class:`Task`; the scripts never branch on
a family's name. Built-in families are the packages under ``agents/`` that hold a ``task.py`` (:data:`BUILTIN_TASKS`,
found without importing them); each is imported on first use, so ``arena-train go`` does not import MuJoCo or RDKit. A family outside this repository registers itself by calling
:func:`register_task` (for example from the module it names with ``--task-module``, or from its own package's import).

    from deep_arena.agents.registry import Task, register_task
    register_task(Task(name="toy", summary="...", env_ids=("toy/Toy-v0",), train=my_train_main))

Each command hook takes the family's own arguments (``argv`` after the family name) and returns an exit status, so a
family keeps its own flags and help text:

| field | used by | what |
|---|---|---|
| ``train(argv) -> int`` | ``arena-train NAME ...`` | build a config, open a run directory, train, report |
| ``evaluate(argv) -> int`` | ``arena-evaluate NAME ...`` | seeded episodes or games into a fresh folder: numbers and pictures |
| ``play(argv) -> int`` | ``arena-play NAME ...`` | load a policy and show it in a window (or say why not) |
| ``load_pretrained(name, device, **kw)`` | :func:`deep_arena.agents.load_pretrained` | a shipped model by name |
| ``pretrained`` | the same | the names of the shipped models (files: :mod:`deep_arena.agents.pretrained`) |
| ``demo_jobs`` | ``make demo`` | ``(title, argv for arena-train)`` pairs, short runs that show curves |
| ``tune() -> TuneSpec`` | ``arena-tune NAME ...`` | search spaces per algorithm and one trial's training (:mod:`deep_arena.runtime.tuning`) |
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BUILTIN_TASKS", "DemoJob", "Task", "find_task", "get_task", "register_task", "task_for_pretrained",
           "task_names"]

Command = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class DemoJob:
    """One ``make demo`` job: a title, the arguments of ``arena-train`` (the family name first), and commands to try
    on the run it makes once the demo is over (``{run}`` stands for its run directory)."""

    title: str
    argv: tuple[str, ...]
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """One environment family as the generic layers see it (see the module docstring for each hook)."""

    name: str
    summary: str
    env_ids: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ()
    train: Command | None = None
    evaluate: Command | None = None
    play: Command | None = None
    load_pretrained: Callable[..., Any] | None = None
    pretrained: tuple[str, ...] = ()
    demo_jobs: tuple[DemoJob, ...] = field(default=())
    tune: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise ValueError(f"task name must be lower-case letters, digits and '_', got {self.name!r}")
        for hook in ("train", "evaluate", "play", "load_pretrained", "tune"):
            value = getattr(self, hook)
            if value is not None and not callable(value):
                raise TypeError(f"task {self.name!r}: {hook} must be callable or None, got {type(value).__name__}")


def _discover_builtin_tasks() -> dict[str, str]:
    """family name -> module path of every ``deep_arena.agents.<family>.task`` module, found without importing it:
    a new family's glue package with a ``task.py`` is registered by being there."""
    found = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).resolve().parent)]),
                       key=lambda i: _ORDER.get(i.name, 99)):
        if info.ispkg and importlib.util.find_spec(f"deep_arena.agents.{info.name}.task") is not None:
            found[info.name] = f"deep_arena.agents.{info.name}.task"
    return found


_ORDER = {"go": 0, "arm": 1, "molecule": 2}  # the order help texts list the shipped families in; others after
# family name -> module whose TASK attribute is its Task (imported on first lookup)
BUILTIN_TASKS: dict[str, str] = _discover_builtin_tasks()

_registered: dict[str, Task] = {}


def register_task(task: Task, replace: bool = False) -> Task:
    """Add ``task`` to the registry; a second task of the same name is refused unless ``replace``."""
    if not isinstance(task, Task):
        raise TypeError(f"register_task needs a Task, got {type(task).__name__}")
    if task.name in _registered and not replace and _registered[task.name] is not task:
        raise ValueError(f"a task named {task.name!r} is already registered")
    _registered[task.name] = task
    return task


def task_names() -> list[str]:
    """Every family name: the built-in ones first, then those registered since, in registration order."""
    return list(BUILTIN_TASKS) + [name for name in _registered if name not in BUILTIN_TASKS]


def get_task(name: str) -> Task:
    """The :class:`Task` called ``name``; ``ValueError`` naming the known ones if there is none."""
    if name not in _registered and name in BUILTIN_TASKS:
        module = importlib.import_module(BUILTIN_TASKS[name])
        register_task(module.TASK, replace=True)
    if name not in _registered:
        raise ValueError(f"unknown environment family {name!r}; choose one of {', '.join(task_names())}")
    return _registered[name]


def task_for_pretrained(model_name: str) -> Task:
    """The family that ships the pretrained model ``model_name``."""
    for name in task_names():
        task = get_task(name)
        if model_name in task.pretrained:
            return task
    known = [m for name in task_names() for m in get_task(name).pretrained]
    raise ValueError(f"unknown pretrained model {model_name!r}; available: {', '.join(known) or 'none'}")


def find_task(name: str, prog: str) -> Task | None:
    """The task ``name``, or ``None`` after printing ``prog: error: unknown environment family ...`` to stderr."""
    try:
        return get_task(name)
    except ValueError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return None


def run_command(hook: str, argv: Sequence[str], prog: str) -> int:
    """``prog NAME ARGS...``: look NAME up and call its ``hook`` (train / evaluate / play) with ARGS."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        lines = [f"usage: {prog} ENV [options]   ({prog} ENV --help for ENV's options)", "", "environments:"]
        for name in task_names():
            task = get_task(name)
            if getattr(task, hook) is not None:
                lines.append(f"  {name:<10} {task.summary}")
        print("\n".join(lines), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    task = find_task(argv[0], prog)
    if task is None:
        return 2
    command = getattr(task, hook)
    if command is None:
        print(f"{prog}: error: environment family {task.name!r} has no {hook} command", file=sys.stderr)
        return 2
    return command(argv[1:])
