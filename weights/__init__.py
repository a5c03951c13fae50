"""The shipped lifter checkpoints, installed as package data ``models.weights``."""
