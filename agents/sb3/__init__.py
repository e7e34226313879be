"""Stable-Baselines3 / sb3-contrib factories, feature extractors and callbacks for Deep Arena envs."""
