"""
Training plumbing shared by agents, GANs and scripts.

Device selection, seeding, YAML configs with CLI overrides, run directories,
checkpoints, TensorBoard writers, progress bars and the common CLI flags.
"""

from deep_arena.runtime.checkpoint import (
    CHECKPOINT_DIR_NAME,
    CheckpointError,
    checkpoint_name,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from deep_arena.runtime.cli import COMMON_DEFAULTS, add_common_args, build_config, was_given
from deep_arena.runtime.config import (
    ConfigDict,
    apply_overrides,
    deep_merge,
    flatten_config,
    load_config,
    merge_config,
    parse_override,
    save_config,
)
from deep_arena.runtime.device import prepare_training, resolve_device, validate_device_spec
from deep_arena.runtime.progress import progress
from deep_arena.runtime.rundir import TIMESTAMP_FORMAT, RunDir, create_run_dir
from deep_arena.runtime.seeding import make_rng, seed_everything
from deep_arena.runtime.tb import config_to_markdown, log_hparams_text, make_writer

__all__ = [
    "CHECKPOINT_DIR_NAME",
    "COMMON_DEFAULTS",
    "TIMESTAMP_FORMAT",
    "CheckpointError",
    "ConfigDict",
    "RunDir",
    "add_common_args",
    "apply_overrides",
    "build_config",
    "checkpoint_name",
    "config_to_markdown",
    "create_run_dir",
    "deep_merge",
    "flatten_config",
    "latest_checkpoint",
    "load_checkpoint",
    "load_config",
    "log_hparams_text",
    "make_rng",
    "make_writer",
    "merge_config",
    "parse_override",
    "prepare_training",
    "progress",
    "resolve_device",
    "save_checkpoint",
    "save_config",
    "seed_everything",
    "validate_device_spec",
    "was_given",
]
