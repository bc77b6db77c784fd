"""The embedded runtime: Delta for real, settings from profiles.yml, state under the lakehouse."""

from __future__ import annotations

import os

from sparkify.runtime.settings import active_target, lakehouse_dir
from tests.conftest import PROJECT_ROOT


def test_delta_create_merge_and_time_travel(spark):
    spark.sql("create database if not exists scratch")
    spark.sql("drop table if exists scratch.delta_check")
    spark.sql("create table scratch.delta_check (id int, value string) using delta")
    spark.sql("insert into scratch.delta_check values (1, 'a'), (2, 'b')")
    spark.sql(
        """
        merge into scratch.delta_check as target
        using (select 2 as id, 'B' as value union all select 3, 'c') as source
        on target.id = source.id
        when matched then update set value = source.value
        when not matched then insert *
        """
    )
    now = {r.id: r.value for r in spark.table("scratch.delta_check").collect()}
    before = {r.id: r.value for r in spark.sql("select * from scratch.delta_check version as of 1").collect()}
    assert now == {1: "a", 2: "B", 3: "c"}
    assert before == {1: "a", 2: "b"}
    history = spark.sql("describe history scratch.delta_check").select("operation").collect()
    assert next(r.operation for r in history) == "MERGE"
    provider = spark.sql("describe extended scratch.delta_check").where("col_name = 'Provider'").collect()
    assert provider[0].data_type == "delta"


def test_session_uses_profile_settings(spark):
    target = active_target()
    assert target.name == "local" and target.is_embedded
    for key in ("spark.sql.extensions", "spark.sql.catalog.spark_catalog", "spark.sql.session.timeZone"):
        assert spark.conf.get(key) == target.spark_conf[key]
    assert spark.conf.get("spark.sql.ansi.enabled") == "false"
    warehouse = spark.conf.get("spark.sql.warehouse.dir")
    assert str(lakehouse_dir()) in warehouse


def test_state_stays_in_the_lakehouse(spark):
    spark.sql("create database if not exists scratch")
    spark.sql("create table if not exists scratch.where_am_i using delta as select 1 as x")
    location = spark.sql("describe detail scratch.where_am_i").collect()[0].location
    assert str(lakehouse_dir()) in location
    assert (lakehouse_dir() / "metastore_db").is_dir()
    for stray in ("metastore_db", "derby.log", "spark-warehouse"):
        assert not (PROJECT_ROOT / stray).exists(), f"{stray} leaked into the project root"
        assert not (PROJECT_ROOT / "tests" / stray).exists()


def test_cluster_target_is_the_projects_own_cluster_unless_the_environment_names_another(monkeypatch):
    monkeypatch.delenv("SPARKIFY_THRIFT_HOST", raising=False)
    monkeypatch.delenv("SPARKIFY_THRIFT_PORT", raising=False)
    active_target.cache_clear()
    try:
        own = active_target("cluster")
        assert (own.host, own.port) == ("127.0.0.1", 10000)  # what `sparkify cluster up` listens on
        monkeypatch.setenv("SPARKIFY_THRIFT_HOST", "spark-thrift.internal")
        monkeypatch.setenv("SPARKIFY_THRIFT_PORT", "10001")
        active_target.cache_clear()
        cluster = active_target("cluster")
        assert cluster.method == "thrift" and not cluster.is_embedded and cluster.spark_conf == {}
        assert (cluster.host, cluster.port) == ("spark-thrift.internal", 10001)
    finally:
        active_target.cache_clear()


def test_no_secret_in_profiles():
    text = (PROJECT_ROOT / "profiles.yml").read_text().lower()
    assert "password" not in text and "token:" not in text
    assert os.environ.get("SPARKIFY_LAKEHOUSE")  # the suite runs against its own lakehouse


def test_files_go_through_hadoops_filesystem_by_uri(spark, tmp_path):
    """The report's and Data Docs' file layer, on Hadoop's FileSystem (file: here)."""
    from sparkify.runtime import storage

    uri = storage.join(tmp_path.as_uri(), "reports", "churn_report.html")
    assert not storage.hadoop_exists(spark, uri)
    storage.hadoop_write_bytes(spark, uri, b"<html>first</html>")
    storage.hadoop_write_bytes(spark, uri, b"<html>second</html>")  # replaces, leaves no partial file
    assert storage.hadoop_exists(spark, uri)
    assert storage.hadoop_read_bytes(spark, uri) == b"<html>second</html>"
    assert not (tmp_path / "reports" / "churn_report.html.partial").exists()
    site = tmp_path / "site"
    (site / "pages").mkdir(parents=True)
    (site / "index.html").write_text("<html>docs</html>")
    (site / "pages" / "suite.html").write_text("<html>suite</html>")
    storage.copy_folder_from_local(spark, site, storage.join(tmp_path.as_uri(), "published", "docs"))
    assert (tmp_path / "published" / "docs" / "pages" / "suite.html").read_text() == "<html>suite</html>"
    assert storage.as_uri("hdfs://namenode/sparkify/") == "hdfs://namenode/sparkify"
    assert storage.as_uri(str(tmp_path)) == tmp_path.as_uri()


def test_hives_function_registry_loads_on_the_driver(spark):
    """Spark 4 no longer ships hive-llap-common, yet Hive's FunctionRegistry needs it to initialise.

    The Thrift server initialises that registry when it closes a session on another thread than the
    one that opened it; without the jar (resolved into .jars/ by conf/maven/pom.xml, on every driver's
    classpath) the close fails with NoClassDefFoundError and takes the running dbt model with it.
    """
    jvm = spark.sparkContext._jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    registry = jvm.java.lang.Class.forName("org.apache.hadoop.hive.ql.exec.FunctionRegistry", True, loader)
    assert registry.getName() == "org.apache.hadoop.hive.ql.exec.FunctionRegistry"


def test_a_fingerprint_ignores_row_and_column_order_and_the_last_bits_of_a_double(spark):
    from sparkify.runtime import target_sql
    from sparkify.runtime.fingerprint import fingerprint, schema_fingerprints

    spark.sql("create database if not exists fingerprints")
    rows = {
        # 0.1 + 0.2 is 0.30000000000000004 in doubles: a sum in another order gives 0.3.
        "a": "select 1 as id, 'x' as name, 0.1d + 0.2d as share union all select 2, 'y', 1.5d",
        "b": "select 1.5d as share, 'y' as name, 2 as id union all select 0.3d, 'x', 1",  # other orders
        "c": "select 1 as id, 'x' as name, 0.3d as share union all select 2, 'Y', 1.5d",  # one value differs
    }
    for name, select in rows.items():
        spark.sql(f"create or replace table fingerprints.{name} using delta as {select}")
    a, b, c = (fingerprint(f"fingerprints.{name}") for name in rows)
    assert (a.rows, a.content_hash) == (b.rows, b.content_hash) == (2, a.content_hash)
    assert c.content_hash != a.content_hash
    assert (
        fingerprint("fingerprints.c", ignore=frozenset({"name"})).content_hash
        == fingerprint("fingerprints.a", ignore=frozenset({"name"})).content_hash
    )
    assert [f.table for f in schema_fingerprints("fingerprints")] == [f"fingerprints.{n}" for n in rows]
    # The helpers the build's bookkeeping uses, on the same target.
    assert target_sql.table_exists("fingerprints.a") and not target_sql.table_exists("fingerprints.nosuch")
    assert not target_sql.table_exists("nosuchschema.a")
    target_sql.set_table_property("fingerprints.a", "sparkify.note", "it's checked")
    assert target_sql.table_properties("fingerprints.a")["sparkify.note"] == "it's checked"
    spark.sql("drop database fingerprints cascade")
