{#- Fails with one row per listed column that holds a null, and how many rows. One scan and one dbt
    node for all of a model's key columns, where a not_null test per column is a query and a node
    each (about 0.35 s apiece on a mini build, whatever the table's size). -#}
-- noqa: disable=LT02
{% test not_null_columns(model, columns) %}

with null_counts as (

    select
        {%- for column in columns %}
        count_if(`{{ column }}` is null) as `{{ column }}`{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

per_column as (

    select
        stack(
            {{ columns | length }},
            {%- for column in columns %}
            '{{ column }}', `{{ column }}`{{ "," if not loop.last }}
            {%- endfor %}
        ) as (column_name, null_rows)
    from null_counts

)

select
    column_name,
    null_rows
from per_column
where null_rows > 0

{% endtest %}
