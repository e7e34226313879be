"""The generic Stable-Baselines3 runner: an algorithm folder, env-agnostic (the env families' glue lives in
``agents/arm``, ``agents/go``, ``agents/molecule``).

* :mod:`.trainer`: :class:`~.trainer.SB3Trainer`, the skeleton of the SB3 trainers (build or load a model, learn
  with the callbacks until the step or wall-clock budget is spent, return a ``RunResult``);
* :mod:`.callbacks`: module-level callbacks (periodic evaluation with a caller-supplied function, checkpoints,
  time budget, episode ends, rollout hooks) and pictures for TensorBoard;
* :mod:`.checkpoints`: ``checkpoints/model_<steps>.zip`` + replay buffer + extra state files, and finding them;
* :mod:`.models`: algorithm lookup by name, loading saved zips (old module names included), the TensorBoard logger;
* :mod:`.settings`: typed (Maskable)PPO hyperparameters shared by the Go and molecule trainers.

This ``__init__`` imports nothing, so that ``agents.sb3.settings`` stays light (no SB3 import) for the configs.
"""
