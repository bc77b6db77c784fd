{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=['event_date'],
        on_schema_change='fail',
        tblproperties={
            'delta.dataSkippingStatsColumns': 'user_id,session_id,event_ts,page,batch_id',
        },
    )
}}

with

{#- Rows of committed batches only (a crash between a batch's writes and its commit leaves rows
    that are not the raw layer's yet), and on an incremental run only batches newer than staged.
    A replayed row's batch is the replay's (_loaded_batch_id), any other row's its ingest's; the
    predicate names both columns, so that Delta's file statistics skip every older file. -#}
{%- set staged_up_to = newest_batch_literal('batch_id') %}
{%- set newer_than_staged -%}
    (_loaded_batch_id > {{ staged_up_to }} or (_loaded_batch_id is null and _batch_id > {{ staged_up_to }}))
{%- endset %}
{#- The event dates the new batches bring, as literals: the staged rows they are checked against
    are read from those partitions only. Each new event is appended once, after the anti-join
    below, so the build never scans the staged table as a merge on (event_date, event_id) would. -#}
{%- set new_dates = dates_in_new_batches(
    source('sparkify', 'sparkify_events'), 'to_date(timestamp_millis(ts))', newer_than_staged,
) %}

source as (

    select * from {{ source('sparkify', 'sparkify_events') }}
    where
        {{ newer_than_staged }}
        and coalesce(_loaded_batch_id, _batch_id)
        <= (select max(batches.batch_id) from {{ source('sparkify', 'ingest_batches') }} as batches)

),

renamed as (

    select
        case
            when userid = '' then null
            when userid in ({{ checked_literals(var('placeholder_user_ids'), 'user id') }}) then null
            else userid
        end as user_id,
        sessionid as session_id,
        iteminsession as item_in_session,
        timestamp_millis(ts) as event_ts,
        to_date(timestamp_millis(ts)) as event_date,
        page,
        auth,
        method,
        cast(status as int) as status,
        level,
        location,
        nullif(regexp_extract(location, '^(.*), ([A-Z-]+)$', 1), '') as city,
        nullif(regexp_extract(location, '^(.*), ([A-Z-]+)$', 2), '') as state,
        trim('"' from useragent) as user_agent,
        timestamp_millis(registration) as registration_ts,
        gender,
        artist,
        song,
        length as song_length_s,
        _source_file as source_file,
        _source_line as source_line,
        _ingested_at as ingested_at,
        coalesce(_loaded_batch_id, _batch_id) as batch_id
    from source

),

enriched as (

    select
        sha2(
            concat_ws(
                '|', coalesce(user_id, ''), session_id, item_in_session, unix_millis(event_ts), page, auth, level,
                coalesce(song, ''), coalesce(artist, ''), coalesce(cast(song_length_s as string), '')
            ),
            256
        ) as event_id,
        *,
        {{ user_agent_os('user_agent') }} as os,
        {{ user_agent_platform('user_agent') }} as platform,
        {{ user_agent_browser('user_agent') }} as browser
    from renamed

),

{# The first copy of an event in batch order (then file and line) is the one kept, whichever
    batch the copies arrive in: a copy in a later batch never replaces the first row's lineage. #}
deduplicated as (

    select
        *,
        row_number() over (partition by event_id order by batch_id, source_file, source_line) as copy_number
    from enriched

),

{% if is_incremental() %}
    already_staged as (

        select
            this.event_date,
            this.event_id
        from {{ this }} as this
        where {{ in_dates('this.event_date', new_dates) }}

    ),
{% endif %}

first_copies as (

    select deduplicated.*
    from deduplicated
    {% if is_incremental() %}
        left anti join already_staged
            on
                deduplicated.event_date = already_staged.event_date
                and deduplicated.event_id = already_staged.event_id
    {% endif %}
    where deduplicated.copy_number = 1

),

final as (

    select
        event_id,
        user_id,
        session_id,
        item_in_session,
        event_ts,
        event_date,
        page,
        auth,
        method,
        status,
        level,
        location,
        city,
        state,
        user_agent,
        os,
        platform,
        browser,
        registration_ts,
        gender,
        artist,
        song,
        song_length_s,
        source_file,
        source_line,
        ingested_at,
        batch_id
    from first_copies

)

select * from final
