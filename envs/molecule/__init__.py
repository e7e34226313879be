"""Molecule design on RDKit: an editable-molecule core (`chem`), property rewards (`rewards`), the Gymnasium env
(`env`, registered as ``arena/MoleculeDesign-v0``) and rendering (`render`)."""
