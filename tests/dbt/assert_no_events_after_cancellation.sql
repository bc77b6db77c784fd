-- A user who reached Cancellation Confirmation has no event after it.
with

cancellations as (

    select
        user_id,
        min(event_ts) as churn_ts
    from {{ ref('stg_sparkify__events') }}
    where page = 'Cancellation Confirmation'
    group by user_id

)

select
    events.user_id,
    events.event_ts,
    events.page,
    cancellations.churn_ts
from {{ ref('stg_sparkify__events') }} as events
inner join cancellations
    on events.user_id = cancellations.user_id
where events.event_ts > cancellations.churn_ts
