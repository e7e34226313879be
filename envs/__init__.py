"""Deep Arena environments. Importing this package registers every Gymnasium id under the ``arena/`` namespace.

| id            | env                                  |
|---------------|--------------------------------------|
| `arena/Go-v0` | `envs.go.gym_env.GoEnv`              |
"""

from gymnasium.envs.registration import register, registry

ENV_IDS = ("arena/Go-v0",)

if "arena/Go-v0" not in registry:
    register(id="arena/Go-v0", entry_point="envs.go.gym_env:GoEnv")
