{#- A sum of doubles that does not depend on the order Spark adds the rows in: each value is
    taken as a decimal with 9 places (song lengths have 5), decimal addition is exact, and the
    total is turned back into a double once. A plain sum(double) can differ in its last bits
    between two builds of the same data (an incremental merge, a new file layout), and a feature
    must not depend on load history. -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 9))) as double)
{%- endmacro %}
