{{
    config(
        contract={'enforced': true},
        post_hook=[
            "{{ delete_as_of_dates_outside(ref('int_as_of_dates'), labelled_only=true) }}",
            "{{ record_through_batch(ref('int_user_daily_activity'), 'sparkify.labels_through_batch') }}",
            "set spark.sql.sources.partitionOverwriteMode = STATIC",
        ],
    )
}}

{#- Labels for every (user, labelled as-of date): did the user cancel, or submit a downgrade,
    within [as_of_date, as_of_date + label_horizon_days)?
    Incremental like fct_user_features, but a label reads the days of its window: a build writes
    the labelled dates whose window ends after the first changed activity day (on a new day, the
    one date whose horizon that day closes), the dates the table lacks, and deletes dates no longer
    labelled. -#}
{%- set rebuilt_dates = as_of_dates_to_rebuild(
    ref('int_as_of_dates'), ref('int_user_daily_activity'), 'sparkify.labels_through_batch',
    reach_column='horizon_end_date', labelled_only=true,
) %}

with

spine as (

    select * from {{ ref('int_user_as_of_dates') }}
    where
        is_labelled
        {% if is_incremental() %}
            and {{ in_dates('as_of_date', rebuilt_dates) }}
        {% endif %}

),

activity as (

    select
        user_id,
        activity_date,
        first_downgrade_ts
    from {{ ref('int_user_daily_activity') }}

),

user_churn as (

    select
        user_id,
        churn_ts
    from {{ ref('int_users') }}

),

downgrades_in_horizon as (

    select
        spine.user_id,
        spine.as_of_date,
        min(activity.first_downgrade_ts) as downgrade_ts
    from spine
    inner join activity
        on
            spine.user_id = activity.user_id
            and spine.as_of_date <= activity.activity_date
            and spine.horizon_end_date > activity.activity_date
    where activity.first_downgrade_ts is not null
    group by spine.user_id, spine.as_of_date

),

final as (

    select
        spine.user_id,
        spine.as_of_date,
        spine.horizon_end_date,
        coalesce(
            user_churn.churn_ts >= cast(spine.as_of_date as timestamp)
            and user_churn.churn_ts < cast(spine.horizon_end_date as timestamp),
            false
        ) as churned_within_horizon,
        case
            when user_churn.churn_ts < cast(spine.horizon_end_date as timestamp) then user_churn.churn_ts
        end as churn_ts,
        downgrades_in_horizon.downgrade_ts is not null as downgraded_within_horizon,
        downgrades_in_horizon.downgrade_ts
    from spine
    left join user_churn
        on spine.user_id = user_churn.user_id
    left join downgrades_in_horizon
        on
            spine.user_id = downgrades_in_horizon.user_id
            and spine.as_of_date = downgrades_in_horizon.as_of_date

)

select * from final
