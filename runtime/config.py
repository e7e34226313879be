"""
Configuration handling: configs are plain (possibly nested) dicts.

A run's configuration is resolved from four layers, later ones winning::

    defaults (in code)  <  config file (--config)  <  explicit CLI flags  <  --set KEY=VALUE

Keys that are not present in the defaults are rejected (typos should not pass
silently), except below an *empty* mapping in the defaults, e.g.
``env_kwargs: {}``, which is treated as an open bag of keyword arguments.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

__all__ = [
    "ConfigDict",
    "load_config",
    "save_config",
    "parse_override",
    "apply_overrides",
    "merge_config",
    "deep_merge",
    "flatten_config",
]

ConfigDict = dict[str, Any]


class _Loader(yaml.SafeLoader):
    """Safe loader that also reads ``3e-4`` and ``1e5`` as floats (PyYAML's YAML 1.1 rules read them as strings)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class _Dumper(yaml.SafeDumper):
    """Safe dumper that writes tuples as lists, paths as strings and NumPy scalars as Python numbers."""


_Dumper.add_representer(tuple, lambda dumper, data: dumper.represent_list(list(data)))
_Dumper.add_multi_representer(Path, lambda dumper, data: dumper.represent_str(str(data)))
_Dumper.add_multi_representer(np.generic, lambda dumper, data: dumper.represent_data(data.item()))


def _yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader


def load_config(path: str | os.PathLike[str]) -> ConfigDict:
    """
    Read a YAML config file.

    An empty file gives an empty config.

    :param path: the ``.yml`` / ``.yaml`` file.
    :return: the parsed config (a dict).
    :raises ValueError: if the file is missing or unreadable, is not valid YAML,
        or its top level is not a mapping. The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a directory" if path.is_dir() else "does not exist"
        raise ValueError(f"Config file {str(path)!r} {problem}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Config file {str(path)!r} could not be read: {exc}") from exc
    try:
        data = _yaml_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"Config file {str(path)!r} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"Config file {str(path)!r} must contain a mapping of keys to values at the top level, "
            f"got {type(data).__name__}"
        )
    return data


def save_config(config: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """
    Write ``config`` to ``path`` as YAML (keys in insertion order), creating parent folders.

    The file is written to a temporary name first and then moved into place,
    so a crash never leaves a half-written config behind.

    :param config: the config to write.
    :param path: the destination file.
    :return: the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(dict(config), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def parse_override(override: str) -> tuple[list[str], Any]:
    """
    Split one ``KEY=VALUE`` override into a key path and a typed value.

    The value is parsed as YAML, so ``lr=3e-4`` gives a float, ``n=6`` an int,
    ``flag=true`` a bool, ``sizes=[64,64]`` a list and ``name=null`` ``None``.
    Dotted keys address nested entries: ``net.blocks=6`` -> ``(["net", "blocks"], 6)``.
    An empty value (``name=``) gives the empty string; use ``name=null`` for ``None``.
    Quote a value to keep it a string: ``tag='1e3'``.

    :param override: the override string.
    :return: the key path and the value.
    :raises ValueError: if there is no ``=``, the key is empty or has an empty
        part, or the value is not valid YAML.
    """
    if not isinstance(override, str) or "=" not in override:
        raise ValueError(f"Malformed override {override!r}: expected KEY=VALUE, e.g. 'lr=3e-4' or 'net.blocks=6'")
    key, raw_value = override.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    if not key or any(not part.strip() for part in parts):
        raise ValueError(f"Malformed override {override!r}: the key before '=' must be non-empty, like 'a' or 'a.b'")
    try:
        value = _yaml_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError as exc:
        raise ValueError(f"Malformed override {override!r}: the value is not valid YAML ({exc})") from exc
    return [part.strip() for part in parts], value


def _set_path(config: dict[str, Any], path: list[str], value: Any, origin: str) -> None:
    node = config
    for depth, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            prefix = ".".join(path[: depth + 1])
            raise ValueError(
                f"Cannot apply override {origin!r}: {prefix!r} is a {type(child).__name__} ({child!r}), not a mapping"
            )
        node = child
    node[path[-1]] = value


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[str]) -> ConfigDict:
    """
    Apply ``KEY=VALUE`` overrides (see :func:`parse_override`) to a copy of ``config``.

    Missing intermediate keys create nested dicts. The input is not modified.

    :param config: the base config.
    :param overrides: override strings such as ``["lr=3e-4", "net.blocks=6", "use_x=true"]``.
    :return: a new config with the overrides applied, in order.
    :raises ValueError: for a malformed override, or a dotted key that passes
        through a non-mapping value.
    """
    if isinstance(overrides, str):
        raise TypeError("overrides must be a list of 'KEY=VALUE' strings, not a single string")
    result = copy.deepcopy(dict(config))
    for override in overrides:
        path, value = parse_override(override)
        _set_path(result, path, value, override)
    return result


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> ConfigDict:
    """
    Recursively merge ``update`` into a copy of ``base``.

    Nested mappings are merged key by key; any other value in ``update``
    replaces the one in ``base``. Neither input is modified.
    """
    result = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _is_open(reference: Any) -> bool:
    """Whether anything may be placed below ``reference``: only empty mappings. A ``None`` default is a scalar
    that is not set yet (``--set minutes.x=1`` is a typo, not a new section)."""
    return isinstance(reference, dict) and not reference


def _check_keys(reference: Mapping[str, Any], candidate: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of keys in ``candidate`` that the ``reference`` schema does not know."""
    unknown: list[str] = []
    for key, value in candidate.items():
        name = f"{prefix}{key}"
        if key not in reference:
            unknown.append(name)
            continue
        expected = reference[key]
        if isinstance(expected, dict):
            if not isinstance(value, Mapping):
                raise ValueError(f"Config key {name!r} must be a mapping, got {type(value).__name__} ({value!r})")
            if expected:
                unknown.extend(_check_keys(expected, value, prefix=f"{name}."))
    return unknown


def _check_path(reference: Mapping[str, Any], path: list[str]) -> bool:
    """Whether the dotted key ``path`` exists in (or falls below an open part of) ``reference``."""
    node: Any = reference
    for part in path:
        if _is_open(node):
            return True
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _nest(flat: Mapping[str, Any]) -> ConfigDict:
    """Turn ``{"net.blocks": 6, "lr": 1}`` into ``{"net": {"blocks": 6}, "lr": 1}``."""
    nested: ConfigDict = {}
    for key, value in flat.items():
        _set_path(nested, key.split("."), value, f"{key}={value!r}")
    return nested


def _raise_unknown(unknown: list[str], source: str, reference: Mapping[str, Any]) -> None:
    if unknown:
        known = ", ".join(sorted(flatten_config(reference))) or "(none)"
        raise ValueError(
            f"Unknown config key(s) in {source}: {', '.join(sorted(unknown))}. "
            f"Known keys: {known}. Pass allow_unknown=True to accept new keys."
        )


def merge_config(
    defaults: Mapping[str, Any],
    file_config: Mapping[str, Any] | None = None,
    cli_values: Mapping[str, Any] | None = None,
    overrides: Iterable[str] | None = None,
    *,
    allow_unknown: bool = False,
    file_name: str = "the config file",
    schema: Mapping[str, Any] | None = None,
) -> ConfigDict:
    """
    Resolve a config: ``defaults < file_config < cli_values < overrides``.

    :param defaults: the defaults defined in code; they also define which keys exist.
    :param file_config: values read from ``--config`` (see :func:`load_config`).
    :param cli_values: values of CLI flags the user actually passed. Keys may be
        dotted (``"net.blocks"``); entries whose value is ``None`` are skipped.
    :param overrides: ``--set KEY=VALUE`` strings (see :func:`apply_overrides`).
    :param allow_unknown: accept keys that are not in ``defaults``.
    :param file_name: how to name the file in error messages.
    :param schema: which keys exist, when not ``defaults`` itself: e.g. the typed settings' defaults, whose empty
        mappings (open bags such as ``model``) accept any key even where ``defaults`` already fills some in.
    :return: the resolved config, a new dict.
    :raises ValueError: for unknown keys (unless ``allow_unknown``), a scalar where
        the defaults hold a mapping, or a malformed override.
    """
    if isinstance(overrides, str):
        raise TypeError("overrides must be a list of 'KEY=VALUE' strings, not a single string")
    overrides = list(overrides or [])
    nested_cli = _nest({key: value for key, value in (cli_values or {}).items() if value is not None})
    if not allow_unknown:
        reference = defaults if schema is None else schema
        _raise_unknown(_check_keys(reference, file_config or {}), repr(file_name), reference)
        _raise_unknown(_check_keys(reference, nested_cli), "command-line flags", reference)
        bad = [text for text in overrides if not _check_path(reference, parse_override(text)[0])]
        _raise_unknown([text.split("=", 1)[0].strip() for text in bad], "--set overrides", reference)

    config = deep_merge(defaults, file_config or {})
    config = deep_merge(config, nested_cli)
    return apply_overrides(config, overrides)


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """
    Flatten nested mappings into dotted keys: ``{"net": {"blocks": 6}}`` -> ``{"net.blocks": 6}``.

    Empty nested mappings are kept as values so that no key disappears.
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_config(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat
