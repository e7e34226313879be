"""AlphaZero for Go: batched PUCT search (`mcts`), residual policy/value network (`network`), batched self-play
(`selfplay`), 8-fold symmetry augmentation (`symmetry`), the training loop (`trainer`) and a player (`player`)."""
