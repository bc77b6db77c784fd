{#- The scores table is written by the scoring job (ml/score.py) and read here as a source. Its DDL
    lives in this one macro: `dbt build` runs it on start (so fct_churn_risk builds before the
    first scoring run) and the scoring job runs it when the table is missing. -#}
{% macro create_churn_scores_table() %}
    {% set ddl %}
        create table if not exists analytics.churn_scores (
            user_id string not null,
            as_of_date date not null,
            churn_probability double not null,
            risk_decile int not null,
            model_version string not null,
            scored_at timestamp not null,
            risk_factor_1 string,
            risk_factor_2 string,
            risk_factor_3 string,
            validation_run_id string,
            validation_skipped boolean not null
        )
        using delta
        comment 'Churn scores per (user_id, as_of_date, model_version), merged by `sparkify score`.'
    {% endset %}
    {% do run_query('create database if not exists analytics') %}
    {% do run_query(ddl) %}
{% endmacro %}
