{#- One row per user: the per-user facts that labels, features and dim_users all read, computed
    once. When the user was first and last seen, when they cancelled, their latest attributes. -#}

with

activity as (

    select * from {{ ref('int_user_daily_activity') }}

),

final as (

    select
        user_id,
        min(registration_ts) as registration_ts,
        min(first_event_ts) as first_event_ts,
        max(last_event_ts) as last_event_ts,
        min(churn_ts) as churn_ts,
        min(first_downgrade_ts) as first_downgrade_ts,
        {{ latest_by('activity_date', ['last_level', 'gender', 'platform', 'os', 'browser', 'state', 'city'],
            rename={'last_level': 'current_level'}) }},
        sum(songs) as songs_total,
        cast(count(*) as bigint) as active_days_total
    from activity
    group by user_id

)

select * from final
