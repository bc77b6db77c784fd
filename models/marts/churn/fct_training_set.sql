{{
    config(
        contract={'enforced': true},
        post_hook=[
            "{{ delete_as_of_dates_outside(ref('int_as_of_dates'), labelled_only=true) }}",
            "{{ record_through_batch_of_inputs(
                [(ref('fct_user_features'), 'sparkify.features_through_batch'),
                 (ref('fct_churn_labels'), 'sparkify.labels_through_batch')],
                'sparkify.training_through_batch',
            ) }}",
            "set spark.sql.sources.partitionOverwriteMode = STATIC",
        ],
    )
}}

{#- Point-in-time features next to their labels: what the churn models learn from.
    Incremental: a build writes the labelled dates whose features or label can have changed (the
    label window reaches furthest, so the rule of fct_churn_labels covers both) and records the
    oldest batch its two inputs were built through. -#}
{%- set rebuilt_dates = as_of_dates_to_rebuild(
    ref('int_as_of_dates'), ref('int_user_daily_activity'), 'sparkify.training_through_batch',
    reach_column='horizon_end_date', labelled_only=true,
) %}

with

features as (

    select * from {{ ref('fct_user_features') }}
    where
        is_labelled
        {% if is_incremental() %}
            and {{ in_dates('as_of_date', rebuilt_dates) }}
        {% endif %}

),

labels as (

    select * from {{ ref('fct_churn_labels') }}
    {% if is_incremental() %}
        where {{ in_dates('as_of_date', rebuilt_dates) }}
    {% endif %}

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
