"""Generative models (GAN module): planned; see the issues. Nothing is implemented here yet."""
