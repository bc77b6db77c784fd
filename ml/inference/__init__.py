"""Inference: churn probabilities from a model, the scoring job and its risk factors."""
