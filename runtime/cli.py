"""
Command-line plumbing shared by the training scripts.

A script stays thin::

    parser = argparse.ArgumentParser(description="Train PPO on Go")
    add_common_args(parser)
    parser.add_argument("--lr", type=float, default=None)   # config-backed flags default to None
    args = parser.parse_args()
    config = build_config(args, DEFAULTS, cli_keys={"lr": "lr"})
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from deep_arena.runtime.argtypes import device
from deep_arena.runtime.config import ConfigDict, deep_merge, load_config, merge_config
from deep_arena.runtime.device import validate_device_spec
from deep_arena.runtime.rundir import RunDir, create_run_dir

__all__ = ["COMMON_DEFAULTS", "RESUME_RULE", "add_common_args", "add_output_args", "build_config", "evaluation_dir",
           "resume_budget", "resume_run", "seed_arg", "was_given"]

#: Config entries every resolved config has; script defaults may change them.
COMMON_DEFAULTS: dict[str, Any] = {"device": "auto", "seed": 0}

_GIVEN_ATTR = "_explicit_args"  # names of tracked flags the user actually passed
_TRACKED_DESTS = frozenset(COMMON_DEFAULTS)  # flags whose argparse default is not None


class _TrackedStore(argparse.Action):
    """``store`` action that also records that the flag was given on the command line."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, _GIVEN_ATTR, frozenset(getattr(namespace, _GIVEN_ATTR, frozenset())) | {self.dest})


def seed_arg(text: str) -> int:
    """argparse ``type=`` for a seed: an integer with ``0 <= seed < 2**32`` (the one seed type of the scripts)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: expected an integer") from None
    if not 0 <= seed < 2**32:
        raise argparse.ArgumentTypeError(f"invalid seed {seed}: expected 0 <= seed < 2**32")
    return seed


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """
    Add the flags every training script shares.

    * ``--device {auto,cpu,cuda,cuda:N}`` (default ``auto``)
    * ``--seed INT`` (default ``0``)
    * ``--config FILE.yml``: a YAML config file
    * ``--set KEY=VALUE``: a config override, repeatable (stored in ``args.overrides``)
    * ``--run-root DIR`` (default ``runs``)

    :param parser: the script's parser.
    :return: the same parser, for chaining.
    """
    group = parser.add_argument_group("common options")
    group.add_argument(
        "--device",
        type=device,
        default=COMMON_DEFAULTS["device"],
        action=_TrackedStore,
        metavar="{auto,cpu,cuda,cuda:N}",
        help="torch device; 'auto' picks CUDA when available (default: %(default)s)",
    )
    group.add_argument(
        "--seed",
        type=seed_arg,
        default=COMMON_DEFAULTS["seed"],
        action=_TrackedStore,
        metavar="INT",
        help="random seed (default: %(default)s)",
    )
    group.add_argument("--config", default=None, metavar="FILE.yml", help="YAML config file")
    group.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set lr=3e-4 --set net.blocks=6 (repeatable; wins over everything)",
    )
    group.add_argument(
        "--run-root", default="runs", metavar="DIR", help="folder for run directories (default: %(default)s)"
    )
    return parser


def was_given(args: argparse.Namespace, dest: str) -> bool:
    """
    Whether the flag stored in ``args.<dest>`` was set by the user.

    The common ``--device`` / ``--seed`` flags are tracked exactly. Any other
    flag counts as given when its value is not ``None``, so config-backed
    script flags should use ``default=None``.
    """
    if dest in _TRACKED_DESTS:
        return dest in getattr(args, _GIVEN_ATTR, frozenset())
    return getattr(args, dest, None) is not None


def build_config(
    args: argparse.Namespace,
    defaults: Mapping[str, Any],
    cli_keys: Mapping[str, str] | Iterable[str] = (),
    *,
    allow_unknown: bool = False,
    schema: Mapping[str, Any] | None = None,
) -> ConfigDict:
    """
    Resolve a script's config from parsed arguments.

    Precedence, lowest first: ``COMMON_DEFAULTS`` < ``defaults`` < ``--config``
    file < explicitly passed CLI flags (``--device``, ``--seed`` and ``cli_keys``)
    < ``--set`` overrides. The result always has ``device`` and ``seed`` entries.

    :param args: the namespace from a parser set up with :func:`add_common_args`.
    :param defaults: the script's defaults; they define the valid keys.
    :param cli_keys: config keys backed by script flags, either a mapping
        ``{"net.blocks": "blocks"}`` (config key -> ``args`` attribute) or a list
        of keys whose attribute is the key with ``.``/``-`` replaced by ``_``.
        Those flags must default to ``None`` (see :func:`was_given`).
    :param allow_unknown: accept keys that are not in the defaults.
    :param schema: the valid keys when not ``defaults`` (see :func:`runtime.config.merge_config`): pass the typed
        settings' defaults where ``defaults`` fills open bags (``model``) from a hyperparameter file.
    :return: the resolved config.
    :raises ValueError: for a bad config file, unknown keys or a malformed override.
    """
    if isinstance(cli_keys, str):
        raise TypeError("cli_keys must be a mapping or a list of keys, not a single string")
    if isinstance(cli_keys, Mapping):
        key_to_attr = dict(cli_keys)
    else:
        key_to_attr = {key: key.replace(".", "_").replace("-", "_") for key in cli_keys}
    key_to_attr = {**{key: key for key in COMMON_DEFAULTS}, **key_to_attr}

    full_defaults = deep_merge(COMMON_DEFAULTS, defaults)
    config_path = getattr(args, "config", None)
    file_config = load_config(config_path) if config_path else None
    cli_values = {key: getattr(args, attr) for key, attr in key_to_attr.items() if was_given(args, attr)}

    config = merge_config(
        full_defaults,
        file_config,
        cli_values,
        getattr(args, "overrides", None) or [],
        allow_unknown=allow_unknown,
        file_name=str(config_path),
        schema=None if schema is None else deep_merge(COMMON_DEFAULTS, schema),
    )
    validate_device_spec(config["device"])  # fail now, not after the environment is built
    seed = config["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"Config value 'seed' must be an integer in [0, 2**32), got {seed!r}")
    return config


def resume_run(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    fixed: Mapping[str, Any],
    changes: Mapping[str, Any],
    can_change: str,
    no_checkpoint: Callable[[Any], str] | None = None,
    find_checkpoint: Callable[[Any], Path | None] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> tuple[Any, Path, ConfigDict]:
    """
    The shared first half of ``--resume RUN_DIR``: refuse flags that would change the saved config, open the run
    directory, find its newest checkpoint and merge the allowed changes and ``--set`` overrides into the saved
    config (``--device`` too, when given). Problems end the script through ``parser.error`` (exit status 2).

    :param fixed: ``{"--flag": value}`` of flags that cannot change on resume (given when not None).
    :param changes: ``{config_key: value}`` that may change (None = not given).
    :param can_change: the flags that may change, for the error message (e.g. ``"--minutes, --steps"``).
    :param no_checkpoint: builds the message when the run has no checkpoint (default: a generic one).
    :param find_checkpoint: ``run_dir -> path | None``, the checkpoint to resume from (default: the run directory's
        newest ``checkpoint_*.pt``).
    :param defaults: the trainer's current defaults; the saved config is laid over them, so that a run made before
        a setting existed resumes with that setting's default and ``--set`` can change it.
    :return: ``(run_dir, checkpoint_path, config)``.
    """
    given = [flag for flag, value in fixed.items() if value is not None]
    if given:
        parser.error(f"--resume continues a run with its saved config; {', '.join(given)} cannot change it "
                     f"({can_change}, --device and --set can)")
    try:
        run_dir = RunDir.open(args.resume)
    except ValueError as err:
        parser.error(str(err))
    ckpt = find_checkpoint(run_dir) if find_checkpoint else run_dir.latest_checkpoint()
    if ckpt is None:
        parser.error(f"{args.resume}: " + (no_checkpoint(run_dir) if no_checkpoint else "no checkpoint to resume from"))
    try:
        saved = load_config(run_dir.config_path)
        if defaults is not None:
            saved = deep_merge(defaults, saved)
        config = merge_config(saved, None, {k: v for k, v in changes.items() if v is not None},
                              getattr(args, "overrides", None) or [])
    except ValueError as err:
        parser.error(str(err))
    if was_given(args, "device"):
        config["device"] = args.device
    return run_dir, ckpt, config


def add_output_args(parser: argparse.ArgumentParser, folder: str) -> None:
    """--out, --run-root and --no-progress of an evaluation command whose default output is runs/<folder>/eval-*."""
    parser.add_argument("--out", default=None,
                        help=f"output folder (default: a fresh runs/{folder}/eval-<timestamp>/)")
    parser.add_argument("--run-root", default="runs", help="where the default output folder goes (default runs)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def evaluation_dir(args: argparse.Namespace, folder: str) -> Path:
    """The output folder of an evaluation: ``--out`` if it is new or empty (``ValueError`` otherwise: nothing is
    overwritten), else a fresh ``<run-root>/<folder>/eval-<timestamp>/``."""
    if args.out is None:
        # A fresh, never reused folder (RunDir.create minus the checkpoints/ folder an evaluation has no use for).
        return RunDir(create_run_dir(folder, "eval", root=args.run_root)).path
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {str(out)!r} already exists and is not an empty folder; nothing is overwritten")
    out.mkdir(parents=True, exist_ok=True)
    return out


#: What the budget flags mean with ``--resume``, for the ``--help`` of every training command.
RESUME_RULE = ("with --resume: that much more than the checkpoint has done (no budget flag: finish the run's "
               "saved plan)")


def resume_budget(
    config: ConfigDict,
    run_dir: RunDir,
    checkpoint: Path,
    *,
    key: str,
    flag: str,
    unit: str,
    done: float,
    given: float | None,
    seconds_done: float | None = None,
    given_minutes: float | None = None,
    required: bool = True,
) -> str:
    """
    The one resume rule of every trainer: rewrite ``config``'s budget for ``--resume`` and return the line to print.

    * No budget flag: the run finishes its saved plan (``config[key]`` and ``config["minutes"]`` stay: totals, with
      minutes counting the run's whole training time across resumes).
    * A budget flag means *that much more* than the checkpoint has done: ``--steps 2`` sets ``config[key]`` to
      ``done + 2``, ``--minutes 1`` sets ``config["minutes"]`` to the minutes spent + 1. A saved budget whose flag is
      not given is dropped (the saved time limit, and ``key`` itself when the trainer does not need it,
      ``required=False``); a required one keeps its saved total.

    :param key: the count budget's config key (``"iterations"``, ``"total_steps"``, ``"episodes"``, ``"epochs"``).
    :param flag: its flag (``"--steps"``), for the messages.
    :param unit: what it counts, in the singular (``"iteration"``, ``"env step"``, ``"episode"``, ``"epoch"``).
    :param done: the count the checkpoint has done.
    :param given: the flag's value on this command line (None: not given).
    :param seconds_done: training seconds the checkpoint has spent (None: the trainer has no minutes budget).
    :param given_minutes: ``--minutes`` on this command line (None: not given).
    :return: ``resuming RUN from CKPT at iteration 5 (2.1 min): training to iteration 7 (--steps 2 more)``.
    :raises ValueError: when the resulting plan has nothing left to train.
    """
    has_minutes = seconds_done is not None
    any_given = given is not None or (has_minutes and given_minutes is not None)
    if given is not None:
        config[key] = done + given
        if isinstance(done, float) and float(config[key]).is_integer():
            config[key] = int(config[key])
    elif any_given and not required:
        config[key] = None
    minutes_done = (seconds_done or 0.0) / 60.0
    if has_minutes:
        if given_minutes is not None:
            config["minutes"] = round(minutes_done + given_minutes, 4)
        elif any_given:
            config["minutes"] = None

    def count(value: float) -> str:
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"

    limits = []
    if config.get(key) is not None:
        limits.append(f"{unit} {count(config[key])}")
    if has_minutes and config.get("minutes") is not None:
        limits.append(f"{config['minutes']:g} min in all")
    target = "training to " + " or ".join(limits) + (", whichever comes first" if len(limits) > 1 else "")
    more = [f"{flag} {count(given)} more"] if given is not None else []
    if has_minutes and given_minutes is not None:
        more.append(f"--minutes {given_minutes:g} more")
    target += f" ({', '.join(more)})" if more else " (the saved plan)"
    where = f"{unit} {count(done)}" + (f" ({minutes_done:.1f} min)" if has_minutes else "")
    left = (config.get(key) is None or config[key] > done) and \
        (not has_minutes or config.get("minutes") is None or config["minutes"] > minutes_done)
    if not left:
        raise ValueError(f"{run_dir.path} is at {where}: nothing left to train ({target}); give {flag} N"
                         + (" or --minutes M" if has_minutes else "") + " to train that much more")
    return f"resuming {run_dir.path} from {checkpoint.name} at {where}: {target}"
