"""Sparkify churn feature warehouse: raw event log -> Delta lakehouse -> features -> churn scores."""

__version__ = "0.1.0"
