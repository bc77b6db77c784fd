"""Evaluation: the metrics, the baselines and ceilings a model is judged against, feature importances."""
