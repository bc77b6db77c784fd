{#- The scores the scoring job merged (one row per user, as-of date and model version), named and
    typed once for the marts that read them. -#}

with

source as (

    select * from {{ source('ml', 'churn_scores') }}

),

final as (

    select
        user_id,
        as_of_date,
        churn_probability,
        risk_decile,
        model_version,
        scored_at,
        risk_factor_1,
        risk_factor_2,
        risk_factor_3,
        validation_run_id,
        validation_skipped
    from source

)

select * from final
