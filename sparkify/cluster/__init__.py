"""The project's own Spark cluster on loopback: PostgreSQL metastore, master, workers, Thrift server."""
