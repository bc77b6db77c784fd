{#- Fails for every non-null value of `column_name` outside [min_value, max_value]. -#}
-- noqa: disable=LT02
{% test values_between(model, column_name, min_value=none, max_value=none) %}
{%- set outside = [] -%}
{%- if min_value is not none %}{% set outside = outside + [column_name ~ ' < ' ~ min_value] %}{% endif -%}
{%- if max_value is not none %}{% set outside = outside + [column_name ~ ' > ' ~ max_value] %}{% endif %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and ({{ outside | join(' or ') or 'false' }})

{% endtest %}
