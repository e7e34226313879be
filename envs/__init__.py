"""Deep Arena environments. Importing this package registers every Gymnasium id under the ``arena/`` namespace.

| id                          | env                                                           |
|-----------------------------|---------------------------------------------------------------|
| `arena/Go-v0`               | `envs.go.gym_env.GoEnv`                                       |
| `arena/ArmReach-v0`         | `envs.arm.env.ArmEnv(task="reach")`, 50-step TimeLimit        |
| `arena/ArmPush-v0`          | `envs.arm.env.ArmEnv(task="push")`, 50-step TimeLimit         |
| `arena/ArmPickAndPlace-v0`  | `envs.arm.env.ArmEnv(task="pick_and_place")`, 50-step TimeLimit |
| `arena/MoleculeDesign-v0`   | `envs.molecule.env.MoleculeEnv` (truncates at its own `max_steps`) |
"""

from gymnasium.envs.registration import register, registry

ENV_IDS = ("arena/Go-v0", "arena/ArmReach-v0", "arena/ArmPush-v0", "arena/ArmPickAndPlace-v0",
           "arena/MoleculeDesign-v0")

if "arena/Go-v0" not in registry:
    register(id="arena/Go-v0", entry_point="deep_arena.envs.go.gym_env:GoEnv")

for _id, _task in (("arena/ArmReach-v0", "reach"), ("arena/ArmPush-v0", "push"),
                   ("arena/ArmPickAndPlace-v0", "pick_and_place")):
    if _id not in registry:
        # The arm envs never terminate; TimeLimit truncates after 50 steps (2 s at 25 Hz), as for Fetch.
        register(id=_id, entry_point="deep_arena.envs.arm.env:ArmEnv", kwargs={"task": _task}, max_episode_steps=50)

if "arena/MoleculeDesign-v0" not in registry:
    # No TimeLimit wrapper: the env truncates at its own max_steps (steps left are part of the observation).
    register(id="arena/MoleculeDesign-v0", entry_point="deep_arena.envs.molecule.env:MoleculeEnv")
