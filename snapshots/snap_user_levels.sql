{#- Type-2 history of each user's subscription level (free/paid), one version per change seen
    between builds. dim_users.current_level is the level at the user's last event. -#}
{% snapshot snap_user_levels %}

{{
    config(
        unique_key='user_id',
        strategy='check',
        check_cols=['current_level'],
        file_format='delta',
    )
}}

select
    user_id,
    current_level,
    last_activity_ts
from {{ ref('dim_users') }}

{% endsnapshot %}
