{#- The friction of a day of activity: a weighted count of the pages that come before cancelling,
    less the pages of a content listener, less a little per event (long sessions are calmer).
    The weights are those of a logistic regression of cancelling on per-session page counts, fitted
    on a generated full-scale log (shared/docs/churn-signal.md, 2026-11); the sum is linear in
    the counts, so a day's (or a window's) friction is the sum of its sessions' friction. Decimal
    weights keep the sum exact. -#}
{% macro daily_friction(activity='activity') -%}
    (
        1.5 * {{ activity }}.thumbs_down
        + 1.4 * {{ activity }}.help
        + 1.4 * {{ activity }}.downgrade_page
        + 1.25 * {{ activity }}.errors
        + 1.1 * {{ activity }}.logout
        - 0.8 * {{ activity }}.thumbs_up
        - 0.6 * {{ activity }}.add_to_playlist
        - 0.5 * {{ activity }}.add_friend
        - 0.22 * {{ activity }}.events
    )
{%- endmacro %}

{#- A day with any page that signals trouble (Thumbs Down, Help, Error, Downgrade). -#}
{% macro had_friction(activity='activity') -%}
    ({{ activity }}.thumbs_down + {{ activity }}.help + {{ activity }}.errors + {{ activity }}.downgrade_page > 0)
{%- endmacro %}
