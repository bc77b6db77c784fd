{{ config(contract={'enforced': true}) }}

{#- Point-in-time features next to their labels: what the churn models learn from. -#}

with

features as (

    select * from {{ ref('fct_user_features') }}
    where is_labelled

),

labels as (

    select * from {{ ref('fct_churn_labels') }}

),

final as (

    select
        features.* except (is_labelled),
        labels.horizon_end_date,
        labels.churned_within_horizon,
        labels.churn_ts,
        labels.downgraded_within_horizon
    from features
    inner join labels
        on
            features.user_id = labels.user_id
            and features.as_of_date = labels.as_of_date

)

select * from final
