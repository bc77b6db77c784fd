{#- Fails for every combination of `columns` that occurs more than once (dbt packages cannot be
    installed here, so this replaces dbt_utils.unique_combination_of_columns). -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
