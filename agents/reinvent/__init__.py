"""REINVENT (Olivecrona et al. 2017): a chemical language model fine-tuned by policy gradient towards an augmented
likelihood, with experience replay and a diversity filter (:mod:`agents.reinvent.optimizer`)."""
