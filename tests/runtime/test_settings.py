"""Typed configs (runtime.settings) and the trainer protocol (runtime.trainer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from deep_arena.agents.alphazero import trainer as az
from deep_arena.agents.alphazero.config import AlphaZeroSettings
from deep_arena.runtime import COMMON_DEFAULTS, merge_config
from deep_arena.runtime.settings import RunSettings, Settings, nested, setting
from deep_arena.runtime.trainer import RunResult


@dataclass
class Inner(Settings):
    lr: float = setting(1e-3, low=0.0, low_open=True)
    layers: list[int] = setting([64, 64])


@dataclass
class Outer(RunSettings):
    steps: int | None = setting(None, low=1)
    ratio: float = setting(0.5, low=0.0, high=1.0)
    mode: str = setting("a", choices=("a", "b"))
    flag: bool = setting(False)
    bag: dict = setting(dict)
    inner: Inner = nested(Inner)

    def check(self) -> None:
        if self.mode == "b" and self.steps is None:
            raise ValueError("mode b needs steps")


def test_defaults_round_trip_and_are_independent_copies():
    d = Outer.defaults()
    assert d == {"device": "auto", "seed": 0, "steps": None, "ratio": 0.5, "mode": "a", "flag": False, "bag": {},
                 "inner": {"lr": 1e-3, "layers": [64, 64]}}
    d["inner"]["layers"].append(1)
    assert Outer.defaults()["inner"]["layers"] == [64, 64]
    assert Outer.from_dict(Outer.defaults()).to_dict() == Outer.defaults()


def test_missing_keys_take_defaults_and_ints_are_accepted_as_floats():
    cfg = Outer.from_dict({"ratio": 1, "inner": {}, "bag": {"anything": [1, 2]}})
    assert cfg.ratio == 1.0 and isinstance(cfg.ratio, float) and cfg.inner.lr == 1e-3 and cfg.bag == {"anything": [1, 2]}


@pytest.mark.parametrize("data, message", [
    ({"steps": 0}, "steps must be a positive integer, got 0"),
    ({"steps": True}, "steps must be a positive integer, got True"),
    ({"steps": 2.5}, "steps must be a positive integer, got 2.5"),
    ({"ratio": 1.5}, "ratio must be a number in [0, 1], got 1.5"),
    ({"ratio": float("nan")}, "ratio must be a number in [0, 1], got nan"),
    ({"mode": "c"}, "mode must be one of 'a', 'b', got 'c'"),
    ({"flag": "yes"}, "flag must be true or false, got 'yes'"),
    ({"inner": {"lr": 0}}, "inner.lr must be a positive number, got 0"),
    ({"inner": {"layers": [64, "x"]}}, "inner.layers[1] must be an integer, got 'x'"),
    ({"inner": 3}, "inner must be a mapping of settings"),
    ({"inner": {"nope": 1}}, "unknown setting(s) inner.nope"),
    ({"typo": 1}, "unknown setting(s) typo"),
    ({"seed": -1}, "seed must be from 0 to 4294967295, got -1"),
    ({"mode": "b"}, "mode b needs steps"),
])
def test_bad_values_name_the_setting(data, message):
    with pytest.raises(ValueError) as err:
        Outer.from_dict(data)
    assert message in str(err.value)


def test_help_table_lists_nested_settings():
    keys = [row[0] for row in Outer.help_table()]
    assert keys[-2:] == ["inner.lr", "inner.layers"] and "seed" in keys


def test_alphazero_settings_are_the_trainers_defaults_and_checks():
    assert az.DEFAULTS == AlphaZeroSettings.defaults()
    config = merge_config(dict(COMMON_DEFAULTS) | az.DEFAULTS, overrides=["iterations=1"])
    az.validate_config(config)
    for override, message in (["net.dropout=1.0", "net.dropout must be a number in [0, 1)"],
                              ["board_size=4", "board_size must be from 5 to 19, got 4"],
                              ["train.lr_schedule=linear", "train.lr_schedule must be one of"],
                              ["expert.gnugo_level=11", "expert.gnugo_level must be from 0 to 10"]):
        with pytest.raises(ValueError, match=re.escape(message)):
            az.validate_config(merge_config(config, overrides=[override]))
    with pytest.raises(ValueError, match="give a budget"):
        az.validate_config(merge_config(config, overrides=["iterations=null"]))


def test_an_old_config_without_newer_settings_still_validates():
    old = AlphaZeroSettings.defaults() | {"iterations": 3}
    del old["expert"]  # saved before the expert start existed
    assert AlphaZeroSettings.from_dict(old).expert.games == 0


def test_run_result_summary():
    result = RunResult(run_dir=None, model_path=None, metrics={"win_rate_vs_random": 0.75}, counters={"iteration": 2})
    assert result.summary().splitlines() == ["stopped by budget after iteration 2", "win_rate_vs_random 0.75"]
