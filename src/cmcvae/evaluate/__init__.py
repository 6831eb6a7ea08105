"""Evaluation: zero-shot perturbation validation, recovery metrics and baselines."""
