{#-
    Dates an incremental model must recompute: the event dates of rows that arrived in batches
    newer than the newest batch the model has already processed. Late events (an old event_date
    in a new batch) are therefore counted exactly, with no fixed lookback.

    Returns a list of 'YYYY-MM-DD' strings; empty on a full build (is_incremental() false) and
    at parse time.
-#}
{% macro dates_in_new_batches(source_relation, date_column, source_batch_column, this_batch_column) %}
    {% if not (execute and is_incremental()) %}
        {{ return([]) }}
    {% endif %}
    {% set query %}
        select distinct cast({{ date_column }} as string) as event_date
        from {{ source_relation }}
        where {{ source_batch_column }} > (select coalesce(max({{ this_batch_column }}), '') from {{ this }})
    {% endset %}
    {% set rows = run_query(query) %}
    {{ return(rows.columns[0].values() | list) }}
{% endmacro %}


{#- A SQL predicate "column in (dates)", or false when there are none. -#}
{% macro in_dates(column, dates) -%}
    {%- if dates | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for d in dates %}date'{{ d }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}
