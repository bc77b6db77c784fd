"""Runtime shared by every step: where state lives, how Spark starts, who may use the metastore."""
