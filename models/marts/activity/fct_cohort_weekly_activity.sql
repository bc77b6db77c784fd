{{ config(contract={'enforced': true}) }}

{#- Churners' and stayers' mean activity in each of the weeks before their end: the cancellation for
    a churner, the last active day for a stayer. Week 1 is the 7 days before the end, week 2 the 7
    before that; a week without activity counts as zero. What the churn report plots. -#}

{%- set weeks_before = 6 -%}
{%- set measures = ['songs', 'thumbs_up', 'thumbs_down', 'roll_advert', 'help', 'errors'] -%}

with

users as (

    select * from {{ ref('dim_users') }}

),

activity as (

    select * from {{ ref('int_user_daily_activity') }}

),

ends as (

    select
        user_id,
        has_churned,
        to_date(coalesce(churn_ts, last_activity_ts)) as end_date
    from users

),

weeks as (

    select
        ends.user_id,
        cast(floor(datediff(ends.end_date, activity.activity_date) / 7) + 1 as int) as week_before,
        {% for measure in measures %}
            sum(activity.{{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from ends
    inner join activity
        on
            ends.user_id = activity.user_id
            and ends.end_date > activity.activity_date
            and date_sub(ends.end_date, {{ 7 * weeks_before }}) <= activity.activity_date
    group by ends.user_id, week_before

),

week_numbers as (

    select explode(sequence(1, {{ weeks_before }})) as week_before

),

grid as (

    select
        ends.user_id,
        ends.has_churned,
        week_numbers.week_before
    from ends
    cross join week_numbers

),

final as (

    select
        case when grid.has_churned then 'churners' else 'stayers' end as cohort,
        grid.week_before,
        cast(count(*) as bigint) as users,
        {% for measure in measures %}
            avg(coalesce(weeks.{{ measure }}, 0)) as {{ measure }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from grid
    left join weeks
        on
            grid.user_id = weeks.user_id
            and grid.week_before = weeks.week_before
    group by cohort, grid.week_before

)

select * from final
