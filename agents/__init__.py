"""Deep Arena agents: AlphaZero (`alphazero`), SB3/sb3-contrib baselines (`sb3`), evaluation, pretrained models and
the shared training plumbing (`runtime`)."""
