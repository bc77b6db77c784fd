{#- The date spine of the point-in-time marts. Labelled dates run every as_of_cadence_days from
    the first date with min_history_days of history to the last date whose label horizon is fully
    observed; the scoring date (the day after the last complete day, whose features use every
    complete day before it) closes the spine unlabelled. The spine comes from the data, never from
    the clock:
    - a complete day has at least complete_day_min_share of the median day's active users, so a
      tail of sessions past the last midnight is not a day of data;
    - complete days further apart than spine_max_gap_days split the data into runs, and the spine
      spans the run with the most active user-days (the later one on a tie), so one stray event
      years away stretches it in no log, even one of a few sparse days whose median day has one
      active user. -#}

with

daily_users as (

    select
        activity_date,
        count(*) as active_users
    from {{ ref('int_user_daily_activity') }}
    group by activity_date

),

typical_day as (

    select percentile(active_users, 0.5) as median_active_users
    from daily_users

),

complete_days as (

    select
        daily_users.activity_date,
        daily_users.active_users
    from daily_users
    cross join typical_day
    where daily_users.active_users >= {{ var('complete_day_min_share') }} * typical_day.median_active_users

),

gaps as (

    select
        activity_date,
        active_users,
        coalesce(
            datediff(activity_date, lag(activity_date) over (order by activity_date))
            > {{ var('spine_max_gap_days') }},
            true
        ) as starts_run
    from complete_days

),

runs as (

    select
        activity_date,
        active_users,
        sum(cast(starts_run as int)) over (order by activity_date) as run_number
    from gaps

),

main_run as (

    select run_number
    from runs
    group by run_number
    order by sum(active_users) desc, run_number desc
    limit 1

),

bounds as (

    select
        min(runs.activity_date) as first_activity_date,
        date_add(max(runs.activity_date), 1) as scoring_as_of_date
    from runs
    inner join main_run
        on runs.run_number = main_run.run_number

),

labelled as (

    select
        explode(
            sequence(
                date_add(first_activity_date, {{ var('min_history_days') }}),
                date_sub(scoring_as_of_date, {{ var('label_horizon_days') }}),
                interval {{ var('as_of_cadence_days') }} day
            )
        ) as as_of_date
    from bounds
    where
        date_add(first_activity_date, {{ var('min_history_days') }})
        <= date_sub(scoring_as_of_date, {{ var('label_horizon_days') }})

),

spine as (

    select
        as_of_date,
        true as is_labelled
    from labelled

    union all

    select
        scoring_as_of_date as as_of_date,
        false as is_labelled
    from bounds
    where
        scoring_as_of_date is not null  -- no activity yet: an empty spine, not a null date
        and scoring_as_of_date not in (select labelled.as_of_date from labelled)

),

final as (

    select
        as_of_date,
        is_labelled,
        date_add(as_of_date, {{ var('label_horizon_days') }}) as horizon_end_date
    from spine

)

select * from final
