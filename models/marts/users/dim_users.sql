{{ config(contract={'enforced': true}) }}

{#- One row per user as of the latest data: who they are and what happened to them. No names:
    first and last names stay in the raw layer. -#}

with

users as (

    select * from {{ ref('int_users') }}

),

final as (

    select
        user_id,
        registration_ts,
        first_event_ts as first_activity_ts,
        last_event_ts as last_activity_ts,
        current_level,
        gender,
        platform,
        os,
        browser,
        state,
        city,
        churn_ts,
        first_downgrade_ts as downgrade_ts,
        churn_ts is not null as has_churned,
        songs_total,
        active_days_total
    from users

)

select * from final
