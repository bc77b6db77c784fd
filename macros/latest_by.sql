{#- The value of each column at the latest `order_by` within the group: `max_by(col, order_by) as col`,
    comma-separated. `prefix` qualifies both (e.g. 'activity.'); `rename` maps a column to its alias. -#}
{% macro latest_by(order_by, columns, prefix='', rename={}) -%}
    {%- for column in columns -%}
        max_by({{ prefix }}{{ column }}, {{ prefix }}{{ order_by }}) as {{ rename.get(column, column) }}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
{%- endmacro %}
