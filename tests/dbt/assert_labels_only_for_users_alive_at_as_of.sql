-- A label row exists only for a user seen before the as-of date and not cancelled before it.
select
    labels.user_id,
    labels.as_of_date,
    users.first_activity_ts,
    users.churn_ts
from {{ ref('fct_churn_labels') }} as labels
inner join {{ ref('dim_users') }} as users
    on labels.user_id = users.user_id
where
    users.first_activity_ts >= cast(labels.as_of_date as timestamp)
    or users.churn_ts < cast(labels.as_of_date as timestamp)
