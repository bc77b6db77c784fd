{{
    config(
        contract={'enforced': true},
        post_hook=[
            "{{ delete_as_of_dates_outside(ref('int_as_of_dates')) }}",
            "{{ record_through_batch(ref('int_user_daily_activity'), 'sparkify.features_through_batch') }}",
            "set spark.sql.sources.partitionOverwriteMode = STATIC",
        ],
    )
}}

{#- Point-in-time user features: one row per (user_id, as_of_date), computed ONLY from activity
    on days strictly before as_of_date (events at or after the as-of instant are never read).
    Incremental: a build writes only the as-of dates the new activity can change (the dates after
    its first changed day, spine dates the table lacks, dates whose is_labelled changed) and
    overwrites just their partitions; the post-hooks delete dates that left the spine and record
    the newest activity batch read. Each as-of date is computed from the whole history before it,
    so an incremental build equals a full refresh. -#}
{%- set rebuilt_dates = as_of_dates_to_rebuild(
    ref('int_as_of_dates'), ref('int_user_daily_activity'), 'sparkify.features_through_batch',
) %}

with

spine as (

    select * from {{ ref('int_user_as_of_dates') }}
    {% if is_incremental() %}
        where {{ in_dates('as_of_date', rebuilt_dates) }}
    {% endif %}

),

activity as (

    select * from {{ ref('int_user_daily_activity') }}

),

history as (

    select
        spine.user_id,
        spine.as_of_date,
        spine.is_labelled,
        {% for days in [7, 14, 28] %}
            {{ window_sum('songs', days) }} as songs_{{ days }}d,
            {{ window_sum('sessions', days) }} as sessions_{{ days }}d,
            {{ window_count_days(days) }} as active_days_{{ days }}d,
        {% endfor %}
        {{ window_sum('listening_s', 7, 'double') }} as listening_s_7d,
        {{ window_sum('listening_s', 28, 'double') }} as listening_s_28d,
        {%- set weekly_and_monthly = [
            'session_seconds', 'thumbs_up', 'thumbs_down', 'roll_advert', 'errors', 'help',
            'downgrade_page',
        ] %}
        {% for column in weekly_and_monthly %}
            {{ window_sum(column, 7) }} as {{ column }}_7d,
            {{ window_sum(column, 28) }} as {{ column }}_28d,
        {% endfor %}
        {% for column in ['add_to_playlist', 'add_friend', 'settings', 'upgrade_page', 'paid_events', 'events'] %}
            {{ window_sum(column, 28) }} as {{ column }}_28d,
        {% endfor %}
        {% for column in [
            'songs', 'sessions', 'events', 'thumbs_down', 'thumbs_up', 'roll_advert', 'help', 'errors',
            'downgrade_page',
        ] %}
            {{ window_sum(column, 3) }} as {{ column }}_3d,
        {% endfor %}
        {{ window_sum('events', 7) }} as events_7d,
        {{ window_sum('short_sessions', 7) }} as short_sessions_7d,
        {{ window_sum('short_sessions', 28) }} as short_sessions_28d,
        {{ window_sum('short_sessions') }} as short_sessions_to_date,
        {% for column in ['events', 'roll_advert', 'help', 'errors', 'downgrade_page'] %}
            {{ window_sum(column) }} as {{ column }}_to_date,
        {% endfor %}
        {{ window_exact_sum(daily_friction(), 3) }} as friction_3d,
        {{ window_exact_sum('activity.thumbs_down', decay_days=7) }} as thumbs_down_ewm,
        {{ window_exact_sum('activity.events', decay_days=7) }} as events_ewm,
        min(activity.activity_date) as first_activity_date,
        max(case when activity.thumbs_down > 0 then activity.activity_date end) as last_thumbs_down_date,
        max(case when activity.downgrade_page > 0 then activity.activity_date end) as last_downgrade_visit_date,
        {{ window_distinct_artists(7) }} as distinct_artists_7d,
        {{ window_distinct_artists(28) }} as distinct_artists_28d,
        {{ window_sum('songs') }} as songs_to_date,
        {{ window_sum('sessions') }} as sessions_to_date,
        {{ window_count_days() }} as active_days_to_date,
        {{ window_sum('thumbs_up') }} as thumbs_up_to_date,
        {{ window_sum('thumbs_down') }} as thumbs_down_to_date,
        {{ window_sum('submit_upgrade') }} + {{ window_sum('submit_downgrade') }} as level_changes_to_date,
        {{ window_sum('submit_downgrade') }} as downgrades_to_date,
        {{ window_exact_sum(daily_friction(), 7) }} as friction_7d,
        {{ window_exact_sum(daily_friction(), 28) }} as friction_28d,
        {{ window_exact_sum(daily_friction()) }} as friction_to_date,
        {{ window_exact_sum(daily_friction(), decay_days=7) }} as friction_ewm,
        {{ window_exact_sum('activity.sessions', decay_days=7) }} as sessions_ewm,
        {{ window_exact_sum('activity.songs', decay_days=7) }} as songs_ewm,
        max(case when {{ had_friction() }} then activity.activity_date end) as last_friction_date,
        max(activity.last_event_ts) as last_event_ts,
        min(activity.registration_ts) as registration_ts,
        {{ latest_by('activity_date', ['last_level', 'gender', 'platform', 'os', 'state'], prefix='activity.',
            rename={'last_level': 'level'}) }}
    from spine
    left join activity
        on
            spine.user_id = activity.user_id
            and spine.as_of_date > activity.activity_date
    group by spine.user_id, spine.as_of_date, spine.is_labelled

),

final as (

    select
        user_id,
        as_of_date,
        is_labelled,
        -- listening
        songs_7d,
        songs_14d,
        songs_28d,
        songs_to_date,
        cast(listening_s_7d / 3600.0 as double) as listening_hours_7d,
        cast(listening_s_28d / 3600.0 as double) as listening_hours_28d,
        distinct_artists_7d,
        distinct_artists_28d,
        {{ safe_ratio('songs_28d', 'sessions_28d') }} as songs_per_session_28d,
        {{ safe_ratio('songs_7d', 'sessions_7d') }} as songs_per_session_7d,
        -- engagement
        sessions_7d,
        sessions_14d,
        sessions_28d,
        sessions_to_date,
        {{ safe_ratio('session_seconds_28d / 60.0', 'sessions_28d') }} as avg_session_minutes_28d,
        {{ safe_ratio('session_seconds_7d / 60.0', 'sessions_7d') }} as avg_session_minutes_7d,
        active_days_7d,
        active_days_14d,
        active_days_28d,
        active_days_to_date,
        cast(datediff(as_of_date, to_date(last_event_ts)) as int) as days_since_last_activity,
        -- sentiment
        thumbs_up_7d,
        thumbs_up_28d,
        thumbs_down_7d,
        thumbs_down_28d,
        {{ safe_ratio('thumbs_down_7d', 'thumbs_up_7d + thumbs_down_7d') }} as thumbs_down_share_7d,
        {{ safe_ratio('thumbs_down_28d', 'thumbs_up_28d + thumbs_down_28d') }} as thumbs_down_share_28d,
        {{ safe_ratio('thumbs_down_to_date', 'thumbs_up_to_date + thumbs_down_to_date') }} as thumbs_down_share_to_date,
        {{ safe_ratio('thumbs_up_28d', 'songs_28d') }} as thumbs_up_per_song_28d,
        add_to_playlist_28d,
        add_friend_28d,
        -- friction
        roll_advert_7d,
        roll_advert_28d,
        {{ safe_ratio('roll_advert_7d', 'songs_7d') }} as roll_advert_per_song_7d,
        {{ safe_ratio('roll_advert_28d', 'songs_28d') }} as roll_advert_per_song_28d,
        errors_7d,
        errors_28d,
        help_7d,
        help_28d,
        {{ safe_ratio('help_7d', 'songs_7d') }} as help_per_song_7d,
        settings_28d,
        downgrade_page_7d,
        downgrade_page_28d,
        upgrade_page_28d,
        -- friction per session (macros/friction.sql), recent, decayed and against the user's own past
        {{ safe_ratio('friction_7d', 'sessions_7d') }} as friction_per_session_7d,
        {{ safe_ratio('friction_28d', 'sessions_28d') }} as friction_per_session_28d,
        {{ safe_ratio('friction_ewm', 'sessions_ewm') }} as friction_per_session_ewm_7d,
        {{ safe_ratio('friction_7d', 'sessions_7d') }}
        - {{ safe_ratio('friction_to_date - friction_7d', 'sessions_to_date - sessions_7d') }}
            as friction_per_session_7d_vs_own_past,
        {{ safe_ratio('thumbs_down_7d', 'songs_7d') }}
        / nullif({{ safe_ratio('thumbs_down_to_date - thumbs_down_7d', 'songs_to_date - songs_7d') }}, 0)
            as thumbs_down_per_song_7d_vs_own_past,
        cast(songs_ewm * (1 - exp(-1 / 7.0)) as double) as songs_per_day_ewm_7d,
        cast(datediff(as_of_date, last_friction_date) as int) as days_since_last_friction,
        -- account
        cast(datediff(as_of_date, to_date(registration_ts)) as int) as tenure_days,
        level,
        {{ safe_ratio('paid_events_28d', 'events_28d') }} as paid_share_28d,
        level_changes_to_date,
        downgrades_to_date,
        gender,
        platform,
        os,
        state,
        -- trends: the last 7 days against the weekly average of the 21 days before them
        {{ safe_ratio('songs_7d', '(songs_28d - songs_7d) / 3.0') }} as songs_trend_7d_vs_prior_21d,
        {{ safe_ratio('sessions_7d', '(sessions_28d - sessions_7d) / 3.0') }} as sessions_trend_7d_vs_prior_21d,
        {{ safe_ratio('thumbs_down_7d', '(thumbs_down_28d - thumbs_down_7d) / 3.0') }}
            as thumbs_down_trend_7d_vs_prior_21d,
        {{ safe_ratio('roll_advert_7d', '(roll_advert_28d - roll_advert_7d) / 3.0') }}
            as roll_advert_trend_7d_vs_prior_21d,
        -- the last 3 days, and recent rates against the user's own past (every day before the last 7)
        songs_3d,
        sessions_3d,
        events_3d,
        {{ safe_ratio('sessions_3d', 3) }} as sessions_per_day_3d,
        {{ safe_ratio('sessions_7d', 7) }}
        / nullif({{ safe_ratio(
            'sessions_to_date - sessions_7d',
            'greatest(datediff(date_sub(as_of_date, 7), first_activity_date), 0)',
        ) }}, 0) as sessions_per_day_7d_over_own_past,
        {%- set per_song = {
            'thumbs_down': 'thumbs_down_{w}',
            'thumbs_up': 'thumbs_up_{w}',
            'roll_advert': 'roll_advert_{w}',
            'help_and_errors': '(help_{w} + errors_{w})',
            'downgrade_page': 'downgrade_page_{w}',
        } %}
        {% for name, count in per_song.items() %}
            {{ safe_ratio(count.format(w='3d'), 'songs_3d') }} as {{ name }}_per_song_3d,
            {% for recent in ['3d', '7d'] %}
                {{ safe_ratio(count.format(w=recent), 'songs_' ~ recent) }}
                - {{ own_past_rate(count, 'songs') }} as {{ name }}_per_song_{{ recent }}_minus_own_past,
            {% endfor %}
        {% endfor %}
        {{ safe_ratio('events_3d', 'sessions_3d') }} as events_per_session_3d,
        {{ safe_ratio('events_7d', 'sessions_7d') }} as events_per_session_7d,
        {% for recent in ['3d', '7d'] %}
            {{ safe_ratio('events_' ~ recent, 'sessions_' ~ recent) }}
            - {{ own_past_rate('events_{w}', 'sessions') }} as events_per_session_{{ recent }}_minus_own_past,
        {% endfor %}
        {{ safe_ratio('short_sessions_7d', 'sessions_7d') }} as short_session_share_7d,
        {{ safe_ratio('short_sessions_28d', 'sessions_28d') }} as short_session_share_28d,
        {{ safe_ratio('short_sessions_7d', 'sessions_7d') }}
        - {{ own_past_rate('short_sessions_{w}', 'sessions') }} as short_session_share_7d_minus_own_past,
        {{ safe_ratio('songs_3d', 'sessions_3d') }} as songs_per_session_3d,
        {{ safe_ratio('songs_7d', 'sessions_7d') }}
        - {{ own_past_rate('songs_{w}', 'sessions') }} as songs_per_session_7d_minus_own_past,
        {{ safe_ratio('friction_3d', 'sessions_3d') }} as friction_per_session_3d,
        {{ safe_ratio('thumbs_down_ewm', 'songs_ewm') }} as thumbs_down_per_song_ewm_7d,
        {{ safe_ratio('events_ewm', 'sessions_ewm') }} as events_per_session_ewm_7d,
        cast(datediff(as_of_date, last_thumbs_down_date) as int) as days_since_last_thumbs_down,
        cast(datediff(as_of_date, last_downgrade_visit_date) as int) as days_since_last_downgrade_visit
    from history

)

select * from final
