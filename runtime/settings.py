"""Typed configs: a trainer's settings as nested dataclasses with bounds, one source of defaults and one validation
path for every trainer.

A trainer declares its settings once::

    @dataclass
    class TrainSettings(Settings):
        batch_size: int = setting(256, low=1, help="samples per SGD step")
        lr: float = setting(2e-3, low=0.0, low_open=True)
        optimizer: str = setting("adamw", choices=("adamw", "sgd"))

    @dataclass
    class MyConfig(Settings):
        minutes: float | None = setting(None, low=0.0, low_open=True)
        train: TrainSettings = nested(TrainSettings)

        def check(self) -> None:            # rules that involve several settings
            if self.minutes is None: raise ValueError("give a budget")

``MyConfig.defaults()`` is the plain dict that ``runtime.config`` layers files, flags and ``--set`` over (unknown keys
stay errors there); ``MyConfig.from_dict(config)`` checks every value against its type and bounds and raises one
``ValueError`` that names the setting (``train.lr must be a positive number, got -1``); ``.to_dict()`` goes back.
A ``dict`` setting (``env_kwargs: dict = setting(dict)``) is an open bag whose keys are not checked. A missing key
takes its default, so a ``config.yml`` saved before a setting existed still loads.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["RunSettings", "Settings", "nested", "setting"]

S = TypeVar("S", bound="Settings")
_NONE_TYPE = type(None)


def setting(default: Any, *, low: float | None = None, high: float | None = None, low_open: bool = False,
            high_open: bool = False, choices: Sequence[Any] | None = None, help: str = "") -> Any:
    """A dataclass field with bounds: ``low``/``high`` (inclusive unless ``low_open``/``high_open``), ``choices``,
    and a one-line ``help``. A mutable default (list, dict) is copied for every instance; pass ``dict`` or ``list``
    itself for an empty one."""
    meta = {"low": low, "high": high, "low_open": low_open, "high_open": high_open,
            "choices": tuple(choices) if choices is not None else None, "help": help}
    if default in (dict, list):
        return dataclasses.field(default_factory=default, metadata=meta)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def nested(cls: type[Settings], help: str = "") -> Any:
    """A group of settings (``config["train"]["lr"]``) as a field."""
    return dataclasses.field(default_factory=cls, metadata={"help": help})


def _describe(kind: type, meta: Mapping[str, Any]) -> str:
    """What a value must be, in words: 'a positive integer', 'from 5 to 19', 'a number in [0, 1)'."""
    low, high = meta.get("low"), meta.get("high")
    noun = "an integer" if kind is int else "a number"
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) if isinstance(c, str) else str(c) for c in meta["choices"])
    if low is not None and high is None:
        if low == 0 and meta.get("low_open"):
            return "a positive integer" if kind is int else "a positive number"
        if low == 1 and kind is int and not meta.get("low_open"):
            return "a positive integer"
        if low == 0 and not meta.get("low_open"):
            return f"{noun} >= 0"
        return f"{noun} {'>' if meta.get('low_open') else '>='} {low:g}"
    if low is not None and high is not None:
        if kind is int and not meta.get("low_open") and not meta.get("high_open"):
            return f"from {low} to {high}"
        return f"{noun} in {'(' if meta.get('low_open') else '['}{low:g}, {high:g}{')' if meta.get('high_open') else ']'}"
    if high is not None:
        return f"{noun} {'<' if meta.get('high_open') else '<='} {high:g}"
    return {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}.get(kind, str(kind))


def _within(value: float, meta: Mapping[str, Any]) -> bool:
    low, high = meta.get("low"), meta.get("high")
    if low is not None and (value <= low if meta.get("low_open") else value < low):
        return False
    if high is not None and (value >= high if meta.get("high_open") else value > high):
        return False
    return True


def _convert(name: str, value: Any, hint: Any, meta: Mapping[str, Any]) -> Any:
    """``value`` checked against the annotation ``hint`` and the bounds in ``meta``; ValueError naming ``name``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and _NONE_TYPE in args:
            return None
        inner = [a for a in args if a is not _NONE_TYPE]
        if len(inner) == 1:
            return _convert(name, value, inner[0], meta)
        for option in inner:  # e.g. int | str: the first that accepts the value
            try:
                return _convert(name, value, option, meta)
            except ValueError:
                continue
        raise ValueError(f"{name} must be one of the types {', '.join(getattr(a, '__name__', str(a)) for a in args)}"
                         f", got {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, Settings):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be a mapping of settings ({', '.join(hint.field_names())}), got {value!r}")
        return hint.from_dict(value, prefix=f"{name}.")
    if hint is Any:
        return value
    if hint is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be a mapping, got {value!r}")
        return dict(value)
    if hint is list or origin in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{name} must be a list, got {value!r}")
        item = args[0] if args and args[-1] is not Ellipsis or len(args) == 2 else Any
        items = [_convert(f"{name}[{i}]", v, item, {}) for i, v in enumerate(value)]
        return items
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be {_describe(int, meta)}, got {value!r}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be {_describe(float, meta)}, got {value!r}")
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be {_describe(str, meta)}, got {value!r}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ValueError(f"{name} must be {_describe(hint, meta)}, got {value!r}")
    if hint in (int, float) and not _within(value, meta):
        raise ValueError(f"{name} must be {_describe(hint, meta)}, got {value!r}")
    return value


class Settings:
    """Base of typed configs (subclasses are dataclasses); see the module docstring."""

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every setting's default as a plain nested dict (the layer files and flags go over)."""
        return cls().to_dict()

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any], prefix: str = "") -> S:
        """A checked instance; ``ValueError`` naming the first unknown key or bad value. Missing keys take defaults."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {data!r}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = [k for k in data if k not in fields]
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(prefix + str(k) for k in unknown)}; known: "
                             f"{', '.join(prefix + k for k in fields)}")
        hints = typing.get_type_hints(cls)
        values = {name: _convert(prefix + name, data[name], hints[name], fields[name].metadata)
                  for name in fields if name in data}
        instance = cls(**values)
        try:
            instance.check()
        except ValueError as err:
            raise ValueError(f"{prefix}{err}" if prefix and not str(err).startswith(prefix) else str(err)) from None
        return instance

    def check(self) -> None:
        """Rules that involve several settings; raise ValueError with the setting's name. Default: none."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Settings):
                value = value.to_dict()
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def help_table(cls, prefix: str = "") -> list[tuple[str, str, str]]:
        """``(key, default, help)`` rows for every setting, nested groups flattened (for --help and the docs)."""
        rows = []
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            if isinstance(hint, type) and issubclass(hint, Settings):
                rows += hint.help_table(prefix=f"{prefix}{f.name}.")
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            rows.append((prefix + f.name, repr(default), f.metadata.get("help", "")))
        return rows


@dataclasses.dataclass
class RunSettings(Settings):
    """The settings every training run has (``runtime.cli.COMMON_DEFAULTS``): device and seed."""

    device: str = setting("auto", help="auto | cpu | cuda | cuda:N | mps")
    seed: int = setting(0, low=0, high=2**32 - 1, help="seeds Python, NumPy, torch and the envs")
