{#- One row per (user, as-of date) for every user seen before the as-of date and not cancelled
    before it. Only what was known before the as-of date decides membership: a user whose first
    event comes later is not in the spine yet, even if their registration date is earlier. -#}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

user_bounds as (

    select
        user_id,
        first_event_ts,
        churn_ts
    from {{ ref('int_users') }}

),

final as (

    select
        user_bounds.user_id,
        as_of_dates.as_of_date,
        as_of_dates.is_labelled,
        as_of_dates.horizon_end_date
    from user_bounds
    inner join as_of_dates
        on
            user_bounds.first_event_ts < cast(as_of_dates.as_of_date as timestamp)
            and (user_bounds.churn_ts is null or user_bounds.churn_ts >= cast(as_of_dates.as_of_date as timestamp))

)

select * from final
