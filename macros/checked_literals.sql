{#- A var's values as a SQL list of string literals, each first checked against the strict
    pattern of its kind (as in sparkify.runtime.sql_values): a value with any other character
    stops the run with a clear message instead of reaching SQL. A single value counts as a list
    of one. -#}
{% macro checked_literals(values, kind) -%}
    {%- set alphabets = {
        'user id': 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-',
        'batch id': 'abcdefT0123456789-',
    } -%}
    {%- set values = [values] if values is string else values -%}
    {%- for value in values -%}
        {%- set text = value | string -%}
        {%- set outside = text | reject('in', alphabets[kind]) | list -%}
        {%- if outside or text | length == 0 or text | length > 64 -%}
            {%- do exceptions.raise_compiler_error(
                'not a valid ' ~ kind ~ ': ' ~ text ~ ' (1 to 64 of the characters ' ~ alphabets[kind] ~ ')'
            ) -%}
        {%- endif -%}
        '{{ text }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
