"""Training: the feature set and purged time split, the model families, which one is published, `sparkify train`."""
