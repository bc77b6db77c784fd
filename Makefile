# Sparkify churn warehouse: set-up, the end-to-end demo, tests, lint and benchmarks.
# Everything installs into the project: .venv/ (Python), .jars/ (Delta jars), .cache/m2 (Maven).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JARS_STAMP := .jars/.resolved
SCALE ?= mini
TARGET ?= local

.PHONY: setup demo test test-unit test-all lint bench report-check mlflow-ui clean clean-lakehouse cluster-up cluster-down cluster-status

setup: $(STAMP) $(JARS_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(JARS_STAMP): conf/maven/pom.xml
	@command -v mvn >/dev/null || (apt-get update -qq && apt-get install -y -qq maven)
	mvn --batch-mode --quiet -f conf/maven/pom.xml -Dmaven.repo.local=$(CURDIR)/.cache/m2 \
	    dependency:copy-dependencies -DincludeScope=runtime -DincludeGroupIds=io.delta,org.postgresql,org.apache.hive \
	    -DoutputDirectory=$(CURDIR)/.jars
	@touch $@

## The whole pipeline end to end on the embedded default (generates a mini-scale log if none landed).
demo: setup
	$(BIN)/sparkify run

## The test suite (real Spark, Delta, dbt and GX on small data, and the project's own cluster);
## full-scale tests (-m fullscale: hours on this machine kind) and the slow variants (-m slow) are excluded. Two test processes,
## one file at a time each (pytest-xdist), files handed out in name order except the cluster module,
## which goes last (tests/conftest.py): its five JVMs slow whatever runs beside them. The 25 slowest
## tests are listed at the end, so every CI log says where the suite's time went.
test: setup
	$(BIN)/pytest -m "not fullscale and not slow" -n 2 --dist loadfile --no-loadscope-reorder --durations=25

## Fast unit tests of the pure Python modules (no Spark, no JVM): seconds.
test-unit: setup
	$(BIN)/pytest tests/unit

test-all: setup
	$(BIN)/pytest

## ruff, the import contract of the layers (pyproject.toml [tool.importlinter]) and sqlfluff.
lint: setup
	$(BIN)/ruff check sparkify ml expectations tests bench tools
	$(BIN)/lint-imports
	$(BIN)/sqlfluff lint models macros tests/dbt  # snapshots/: the jinja templater has no snapshot tag

## Every stage timed as its own process at SCALE=mini|medium|full (REPEATS=n runs per stage, default
## mini 2, full 1) on TARGET=local|cluster; rewrites that scale's (and target's) section of BENCHMARKS.md.
bench: setup
	$(BIN)/python -m bench.run --scale $(SCALE) --target $(TARGET) $(if $(REPEATS),--repeats $(REPEATS))

## MLflow's UI on the embedded default's store (runs, metrics, plots, the sparkify_churn versions and alias):
## http://127.0.0.1:5000. SPARKIFY_LAKEHOUSE moves it, as it moves everything else.
mlflow-ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(abspath $(or $(SPARKIFY_LAKEHOUSE),lakehouse))/mlflow/mlflow.db \
	    --default-artifact-root $(abspath $(or $(SPARKIFY_LAKEHOUSE),lakehouse))/mlflow/artifacts --host 127.0.0.1 --port 5000

## Open the latest churn report in headless Chromium (installed from Debian when missing).
report-check: setup
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python tools/check_report.py $${SPARKIFY_LAKEHOUSE:-lakehouse}/reports/churn_report.html

## The project's own Spark cluster on loopback (PostgreSQL metastore, master, 2 workers, Thrift
## server), all state in lakehouse/cluster/; then DBT_TARGET=cluster for dbt and every sparkify step.
cluster-up: setup
	$(BIN)/sparkify cluster up

cluster-status: setup
	$(BIN)/sparkify cluster status

cluster-down: setup
	$(BIN)/sparkify cluster down

clean-lakehouse:
	@if [ -x $(BIN)/sparkify ]; then $(BIN)/sparkify cluster down; fi
	rm -rf lakehouse target logs

clean: clean-lakehouse
	rm -rf $(VENV) .jars .cache
