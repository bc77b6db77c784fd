{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['user_id', 'session_id'],
        on_schema_change='fail',
    )
}}

{#- Sessions touched by new batches are rebuilt from all their events, wherever they fall (session
    ids repeat across users, so the key is (user_id, session_id); a session may cross midnight, and
    a late batch may add to a session of any day). An incremental build reads the staged partitions
    of the new dates and of the dates those sessions already span, not every staged event. -#}
{%- set new_dates = dates_in_new_batches(
    ref('stg_sparkify__events'), 'event_date', 'batch_id > ' ~ newest_batch_literal('last_batch_id'),
) -%}
{%- set session_dates = dates_of_touched_sessions(ref('stg_sparkify__events'), new_dates) -%}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}
    where user_id is not null

),

{% if is_incremental() %}
    touched_sessions as (

        select distinct
            user_id,
            session_id
        from events
        where {{ in_dates('event_date', new_dates) }}

    ),
{% endif %}

{#- A full build reads every event once; an incremental one only the sessions new batches touched,
    from the partitions they span. #}
session_events as (

    select events.*
    from events
    {% if is_incremental() %}
        inner join touched_sessions
            on
                events.user_id = touched_sessions.user_id
                and events.session_id = touched_sessions.session_id
        where {{ in_dates('events.event_date', session_dates) }}
    {% endif %}

),

sessions as (

    select
        user_id,
        session_id,
        min(event_ts) as session_start_ts,
        max(event_ts) as session_end_ts,
        count(*) as events,
        count_if(page = 'NextSong') as songs,
        coalesce({{ exact_sum('song_length_s') }}, 0) as listening_s,
        count(distinct page) as distinct_pages,
        max_by(level, event_ts) as level_at_end,
        max(batch_id) as last_batch_id
    from session_events
    group by user_id, session_id

),

final as (

    select
        user_id,
        session_id,
        session_start_ts,
        session_end_ts,
        to_date(session_start_ts) as session_start_date,
        cast(unix_timestamp(session_end_ts) - unix_timestamp(session_start_ts) as bigint) as duration_s,
        events,
        songs,
        cast(listening_s as double) as listening_s,
        distinct_pages,
        level_at_end,
        last_batch_id
    from sessions

)

select * from final
