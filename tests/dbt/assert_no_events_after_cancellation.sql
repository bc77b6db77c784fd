-- A user who reached Cancellation Confirmation has no event after it. An event after a
-- cancellation lies on or after the cancellation's date, so when either of the two is among the
-- rows not checked yet (var check_events_from, set by `sparkify build`) the event is in range.
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
where
    events.event_date >= date'{{ var('check_events_from') }}'
    and events.event_ts > cancellations.churn_ts
