{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['activity_date'],
        on_schema_change='fail',
        post_hook="set spark.sql.sources.partitionOverwriteMode = STATIC",
    )
}}

{#- One row per user and day with activity: the additive building block of every windowed
    feature. Every column is computed from that day's events alone, so recomputing the days a batch
    touched gives what a full build gives, and a session that crosses midnight counts on each
    day only with its events of that day (a feature as of midnight never sees the rest of it).
    Distinct artists are kept as the day's sorted set of artist hashes, so windows count exactly.
    An incremental build recomputes whole days, so it overwrites just those days' partitions
    (dbt-spark sets Spark's dynamic partition overwrite for it; the post-hook sets the shared
    session back, so no later overwrite in the same process is dynamic by accident): no scan of
    the other days, as a merge on (activity_date, user_id) needs. -#}
{%- set new_dates = dates_in_new_batches(
    ref('stg_sparkify__events'), 'event_date', 'batch_id > ' ~ newest_batch_literal('last_batch_id'),
) -%}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}
    where
        user_id is not null
        {% if is_incremental() %}
            and {{ in_dates('event_date', new_dates) }}
        {% endif %}

),


daily_events as (

    select
        user_id,
        event_date as activity_date,
        count(*) as events,
        count_if(page = 'NextSong') as songs,
        coalesce({{ exact_sum('song_length_s') }}, 0) as listening_s,
        array_sort(collect_set(case when artist is not null then xxhash64(artist) end)) as artist_hashes,
        count_if(page = 'Thumbs Up') as thumbs_up,
        count_if(page = 'Thumbs Down') as thumbs_down,
        count_if(page = 'Add to Playlist') as add_to_playlist,
        count_if(page = 'Add Friend') as add_friend,
        count_if(page = 'Roll Advert') as roll_advert,
        count_if(page = 'Error') as errors,
        count_if(page = 'Help') as help,
        count_if(page = 'Settings') as settings,
        count_if(page = 'Downgrade') as downgrade_page,
        count_if(page = 'Upgrade') as upgrade_page,
        count_if(page = 'Submit Downgrade') as submit_downgrade,
        count_if(page = 'Submit Upgrade') as submit_upgrade,
        count_if(page = 'Home') as home,
        count_if(page = 'Logout') as logout,
        count_if(level = 'paid') as paid_events,
        min(case when page = 'Cancellation Confirmation' then event_ts end) as churn_ts,
        min(case when page = 'Submit Downgrade' then event_ts end) as first_downgrade_ts,
        min(event_ts) as first_event_ts,
        max(event_ts) as last_event_ts,
        {{ latest_by('event_ts', ['level', 'gender', 'platform', 'os', 'browser', 'state', 'city'],
            rename={'level': 'last_level'}) }},
        min(registration_ts) as registration_ts,
        max(batch_id) as last_batch_id
    from events
    group by user_id, event_date

),

session_pieces as (

    select
        user_id,
        event_date as activity_date,
        session_id,
        cast(unix_timestamp(max(event_ts)) - unix_timestamp(min(event_ts)) as bigint) as piece_s,
        count(*) as piece_events
    from events
    group by user_id, event_date, session_id

),

daily_sessions as (

    select
        user_id,
        activity_date,
        count(*) as sessions,
        sum(piece_s) as session_seconds,
        count_if(piece_events <= {{ var('short_session_max_events') }}) as short_sessions
    from session_pieces
    group by user_id, activity_date

),

final as (

    select
        daily_events.user_id,
        daily_events.activity_date,
        daily_events.events,
        daily_events.songs,
        cast(daily_events.listening_s as double) as listening_s,
        daily_events.artist_hashes,
        coalesce(daily_sessions.sessions, 0) as sessions,
        coalesce(daily_sessions.session_seconds, 0) as session_seconds,
        coalesce(daily_sessions.short_sessions, 0) as short_sessions,
        daily_events.thumbs_up,
        daily_events.thumbs_down,
        daily_events.add_to_playlist,
        daily_events.add_friend,
        daily_events.roll_advert,
        daily_events.errors,
        daily_events.help,
        daily_events.settings,
        daily_events.downgrade_page,
        daily_events.upgrade_page,
        daily_events.submit_downgrade,
        daily_events.submit_upgrade,
        daily_events.home,
        daily_events.logout,
        daily_events.paid_events,
        daily_events.churn_ts,
        daily_events.first_downgrade_ts,
        daily_events.first_event_ts,
        daily_events.last_event_ts,
        daily_events.last_level,
        daily_events.gender,
        daily_events.platform,
        daily_events.os,
        daily_events.browser,
        daily_events.state,
        daily_events.city,
        daily_events.registration_ts,
        daily_events.last_batch_id
    from daily_events
    left join daily_sessions
        on
            daily_events.user_id = daily_sessions.user_id
            and daily_events.activity_date = daily_sessions.activity_date

)

select * from final
