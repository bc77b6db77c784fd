{#-
    Window aggregates over int_user_daily_activity joined to a (user, as_of_date) spine, where the
    join already keeps only activity_date < as_of_date. A window of N days is
    [as_of_date - N, as_of_date - 1]; omit days for "to date". Each returns its feature's final
    type (counts bigint), so a feature is named once, where it is computed.
-#}
{% macro in_window(days, activity='activity', spine='spine') -%}
    {%- if days is none -%}
        true
    {%- else -%}
        {{ activity }}.activity_date >= date_sub({{ spine }}.as_of_date, {{ days }})
    {%- endif -%}
{%- endmacro %}

{#- type 'double' sums exactly (exact_sum), so the feature does not depend on the order rows are added in. -#}
{% macro window_sum(column, days=none, type='bigint', activity='activity', spine='spine') -%}
    {%- set value = 'case when ' ~ in_window(days, activity, spine) ~ ' then ' ~ activity ~ '.' ~ column ~ ' end' -%}
    {%- if type == 'double' -%}
        coalesce({{ exact_sum(value) }}, 0)
    {%- else -%}
        cast(coalesce(sum({{ value }}), 0) as {{ type }})
    {%- endif -%}
{%- endmacro %}

{% macro window_count_days(days=none, activity='activity', spine='spine') -%}
    cast(count(case when {{ in_window(days, activity, spine) }} then {{ activity }}.activity_date end) as bigint)
{%- endmacro %}

{% macro window_distinct_artists(days=none, activity='activity', spine='spine') -%}
    cast(
        coalesce(
            hll_sketch_estimate(
                hll_union_agg(case when {{ in_window(days, activity, spine) }} then {{ activity }}.artist_sketch end, true)
            ),
            0
        ) as bigint
    )
{%- endmacro %}

{#- a / b, null when b is 0 (ratios of nothing are unknown, not zero) -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}
