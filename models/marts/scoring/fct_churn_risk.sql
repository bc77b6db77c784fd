{{ config(contract={'enforced': true}) }}

{#- What analysts query: each active user's latest churn score with their current attributes.
    Active = not churned in the data seen so far. No names. -#}

with

scores as (

    select * from {{ ref('stg_ml__churn_scores') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

latest_scores as (

    select
        *,
        row_number() over (
            partition by user_id
            order by as_of_date desc, scored_at desc
        ) as recency_rank
    from scores

),

final as (

    select
        latest_scores.user_id,
        latest_scores.as_of_date,
        latest_scores.churn_probability,
        latest_scores.risk_decile,
        latest_scores.risk_factor_1,
        latest_scores.risk_factor_2,
        latest_scores.risk_factor_3,
        latest_scores.model_version,
        latest_scores.scored_at,
        latest_scores.validation_skipped,
        users.current_level,
        users.gender,
        users.platform,
        users.state,
        users.city,
        users.registration_ts,
        users.last_activity_ts,
        users.songs_total,
        users.active_days_total
    from latest_scores
    inner join users
        on latest_scores.user_id = users.user_id
    where
        latest_scores.recency_rank = 1
        and users.churn_ts is null

)

select * from final
