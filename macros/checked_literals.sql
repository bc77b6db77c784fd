{#- A var's values as a SQL list of string literals, each first checked against the strict
    pattern of its kind (the same patterns as sparkify.runtime.sql_values): a value that does not
    match stops the run with a clear message instead of reaching SQL. -#}
{% macro checked_literals(values, kind) -%}
    {%- set patterns = {
        'user id': '^[A-Za-z0-9_.-]{1,64}$',
        'date': '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
    } -%}
    {%- if values is string or values is not iterable -%}
        {%- do exceptions.raise_compiler_error('expected a list of ' ~ kind ~ 's, got ' ~ values) -%}
    {%- endif -%}
    {%- for value in values -%}
        {%- if not modules.re.match(patterns[kind], value | string) -%}
            {%- do exceptions.raise_compiler_error(
                'not a valid ' ~ kind ~ ': ' ~ (value | string) ~ ' (expected the pattern ' ~ patterns[kind] ~ ')'
            ) -%}
        {%- endif -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
