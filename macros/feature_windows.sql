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

{#- Exact: the union of each day's set of artist hashes. A sketch's estimate (HyperLogLog) depends on
    the order its inputs were merged in, so two builds of the same history would disagree. -#}
{% macro window_distinct_artists(days=none, activity='activity', spine='spine') -%}
    cast(
        size(
            array_distinct(
                flatten(collect_list(case when {{ in_window(days, activity, spine) }} then {{ activity }}.artist_hashes end))
            )
        ) as bigint
    )
{%- endmacro %}

{#- a / b, null when b is 0 (ratios of nothing are unknown, not zero) -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}

{#- An exact sum of an expression over the days of a window, each day optionally weighted by
    exp(-(age - 1) / decay_days), where age is days before the as-of date (the day before weighs
    1): an exponentially weighted sum. Exact (exact_sum), so it does not depend on load order. -#}
{% macro window_exact_sum(expression, days=none, decay_days=none, activity='activity', spine='spine') -%}
    {%- set weight = '' if decay_days is none else
        ' * exp(-(datediff(' ~ spine ~ '.as_of_date, ' ~ activity ~ '.activity_date) - 1) / ' ~ decay_days ~ '.0)' -%}
    coalesce({{ exact_sum('case when ' ~ in_window(days, activity, spine) ~ ' then (' ~ expression ~ ')' ~ weight ~ ' end') }}, 0)
{%- endmacro %}

{#- A user's rate before the last 7 days: the count over every earlier day (the to-date total less the
    last 7 days) per unit of the denominator over the same days; null when those days had none.
    ``count`` is an expression of the feature columns with ``{w}`` standing for the window suffix
    (``'(help_{w} + errors_{w})'``); ``denominator`` a column stem (``songs``). -#}
{% macro own_past_rate(count, denominator) -%}
    {{ safe_ratio(
        count.format(w='to_date') ~ ' - ' ~ count.format(w='7d'),
        denominator ~ '_to_date - ' ~ denominator ~ '_7d',
    ) }}
{%- endmacro %}
