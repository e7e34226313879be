"""MolDQN: double DQN over the next states of the molecule-design env (`trainer`), its Q network (`network`) and a
greedy player for trained models (`player`)."""
