"""Reporting: the churn report and the figures it shares with the MLflow run."""
