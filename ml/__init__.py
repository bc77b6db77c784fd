"""Churn models on the point-in-time marts: train, register, score, report."""
