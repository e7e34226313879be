"""Robot arm on MuJoCo: reach, push and pick-and-place with a 7-joint arm and a parallel gripper.

``sim`` (MuJoCo model and end-effector controller) and ``tasks`` (goals and rewards) import no Gymnasium or
pygame; ``env.ArmEnv`` is the Gymnasium adapter and ``render`` draws frames. The ids ``arena/ArmReach-v0``,
``arena/ArmPush-v0`` and ``arena/ArmPickAndPlace-v0`` are registered by ``import envs``.
"""
