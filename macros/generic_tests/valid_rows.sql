{#- A model's row rules in one dbt test: its key (not null and unique together), other not-null
    columns, accepted values and ranges. Fails with one row per broken rule: the rule, its
    columns, how many rows (or duplicated keys) break it and up to five examples.

    Why one test: on Spark a data test costs a query plan, a Delta snapshot and a dbt node however
    small the table (0.3-2.3 s each on a mini build, several seconds through the Thrift server), and
    the staging model is a view, so each of its tests read the raw layer again. Written as one
    test per rule, a build ran 46 data tests; with one per model it runs 21, and the row rules are
    one scan plus one grouping for the key. -#}
-- noqa: disable=LT02
{% test valid_rows(model, key=[], not_null=[], accepted_values={}, ranges={}) %}
{%- if not key and not not_null and not accepted_values and not ranges %}
    {{ exceptions.raise_compiler_error("valid_rows on " ~ model ~ " names no key and no rule") }}
{%- endif %}
{%- set checks = [] -%}
{%- for column in (key + not_null) | unique %}
    {%- do checks.append({
        "rule": "not null",
        "column": column,
        "breaks": "`" ~ column ~ "` is null",
        "examples": false,
    }) %}
{%- endfor %}
{%- for column, values in accepted_values.items() %}
    {%- set accepted = [] %}
    {%- for value in values %}{% do accepted.append("'" ~ (value | string | replace("'", "\\'")) ~ "'") %}{% endfor %}
    {%- do checks.append({
        "rule": "accepted values",
        "column": column,
        "breaks": "cast(`" ~ column ~ "` as string) not in (" ~ accepted | join(", ") ~ ")",
        "examples": true,
    }) %}
{%- endfor %}
{%- for column, bounds in ranges.items() %}
    {%- set outside = [] %}
    {%- if bounds.get("min") is not none %}{% do outside.append("`" ~ column ~ "` < " ~ bounds["min"]) %}{% endif %}
    {%- if bounds.get("max") is not none %}{% do outside.append("`" ~ column ~ "` > " ~ bounds["max"]) %}{% endif %}
    {%- do checks.append({
        "rule": "range",
        "column": column,
        "breaks": "(" ~ (outside | join(" or ") or "false") ~ ")",
        "examples": true,
    }) %}
{%- endfor %}

with checked as (

    select * from {{ model }}

),

{%- if checks %}

rule_counts as (

    select
        {%- for check in checks %}
        count_if({{ check.breaks }}) as `breaks_{{ loop.index }}`,
        {%- if check.examples %}
        concat_ws(', ', slice(array_sort(collect_set(
            case when {{ check.breaks }} then cast(`{{ check.column }}` as string) end
        )), 1, 5)) as `examples_{{ loop.index }}`{{ "," if not loop.last }}
        {%- else %}
        cast(null as string) as `examples_{{ loop.index }}`{{ "," if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from checked

),

rule_failures as (

    select
        stack(
            {{ checks | length }},
            {%- for check in checks %}
            '{{ check.rule }}', '{{ check.column }}', `breaks_{{ loop.index }}`, `examples_{{ loop.index }}`{{ "," if not loop.last }}
            {%- endfor %}
        ) as (rule, columns, failing_rows, examples)
    from rule_counts

),

{%- endif %}
{%- if key %}

duplicated_keys as (

    select
        concat_ws(' | ', {% for column in key %}cast(`{{ column }}` as string){{ ", " if not loop.last }}{% endfor %}) as key_value
    from checked
    group by {% for column in key %}`{{ column }}`{{ ", " if not loop.last }}{% endfor %}
    having count(*) > 1

),

key_failures as (

    select
        'unique key' as rule,
        '{{ key | join(", ") }}' as columns,
        count(*) as failing_rows,
        concat_ws('; ', slice(array_sort(collect_list(key_value)), 1, 5)) as examples
    from duplicated_keys

),

{%- endif %}

failures as (

    {%- if checks %}
    select * from rule_failures
    {%- endif %}
    {%- if checks and key %}
    union all
    {%- endif %}
    {%- if key %}
    select * from key_failures
    {%- endif %}

)

select * from failures
where failing_rows > 0

{% endtest %}
