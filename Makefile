# Deep Arena: `make demo` sets everything up and runs a short training job on every environment;
# `make test` runs the suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

export SDL_VIDEODRIVER ?= dummy
export MUJOCO_GL ?= egl

.PHONY: demo test test-slow bench clean-venv gan-data

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first and pinned, so that no other package pulls an unpinned (multi-GB CUDA) torch. On this project's
	# CPU machines pip finds a local CPU wheel of this version; elsewhere PyPI's wheel for the platform is used.
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest -q --durations=15

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PIP) install -e '.[bench]'
	$(PY) benchmarks/go_speed.py
	$(PY) benchmarks/molecule_speed.py
	$(PY) benchmarks/arm_speed.py   # peers need their own venvs: see the script's docstring

# GAN data: QM9 (qm9pack) and fcd_torch via the `gan` extra; MOSES (molsets) without its broken dependencies.
gan-data: $(STAMP)
	$(PIP) install -e '.[gan]'
	$(PIP) install --no-deps molsets==0.3.1

clean-venv:
	rm -rf $(VENV)
