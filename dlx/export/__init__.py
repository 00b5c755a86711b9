"""Deployment: a run's model as a file other programs run, raw inputs in, class probabilities out."""
