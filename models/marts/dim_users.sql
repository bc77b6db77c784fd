{{ config(contract={'enforced': true}) }}

{#- One row per user as of the latest data: who they are and what happened to them. No names:
    first and last names stay in the raw layer. -#}

with

activity as (

    select * from {{ ref('int_user_daily_activity') }}

),

final as (

    select
        user_id,
        min(registration_ts) as registration_ts,
        min(first_event_ts) as first_activity_ts,
        max(last_event_ts) as last_activity_ts,
        max_by(last_level, activity_date) as current_level,
        max_by(gender, activity_date) as gender,
        max_by(platform, activity_date) as platform,
        max_by(os, activity_date) as os,
        max_by(browser, activity_date) as browser,
        max_by(state, activity_date) as state,
        max_by(city, activity_date) as city,
        min(churn_ts) as churn_ts,
        min(first_downgrade_ts) as downgrade_ts,
        min(churn_ts) is not null as has_churned,
        sum(songs) as songs_total,
        cast(count(*) as bigint) as active_days_total
    from activity
    group by user_id

)

select * from final
