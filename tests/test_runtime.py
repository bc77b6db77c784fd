"""The embedded runtime: Delta for real, settings from profiles.yml, state under the lakehouse."""

from __future__ import annotations

import os

import pytest

from sparkify.runtime.settings import SettingsError, active_target, lakehouse_dir
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


def test_cluster_target_needs_its_host_from_the_environment(monkeypatch):
    monkeypatch.delenv("SPARKIFY_THRIFT_HOST", raising=False)
    active_target.cache_clear()
    try:
        with pytest.raises(SettingsError, match="SPARKIFY_THRIFT_HOST"):
            active_target("cluster")
        monkeypatch.setenv("SPARKIFY_THRIFT_HOST", "spark-thrift.internal")
        cluster = active_target("cluster")
        assert cluster.method == "thrift" and not cluster.is_embedded and cluster.spark_conf == {}
    finally:
        active_target.cache_clear()


def test_no_secret_in_profiles():
    text = (PROJECT_ROOT / "profiles.yml").read_text().lower()
    assert "password" not in text and "token:" not in text
    assert os.environ.get("SPARKIFY_LAKEHOUSE")  # the suite runs against its own lakehouse
