{#- Operating system, device platform and browser family from a raw userAgent string. -#}
{% macro user_agent_os(column) -%}
    case
        when {{ column }} is null then null
        when {{ column }} like '%iPhone%' or {{ column }} like '%iPad%' then 'iOS'
        when {{ column }} like '%Android%' then 'Android'
        when {{ column }} like '%Windows%' then 'Windows'
        when {{ column }} like '%Macintosh%' then 'Mac OS X'
        when {{ column }} like '%Linux%' or {{ column }} like '%X11%' then 'Linux'
        else 'Other'
    end
{%- endmacro %}

{% macro user_agent_platform(column) -%}
    case
        when {{ column }} is null then null
        when {{ column }} like '%iPad%' then 'tablet'
        when {{ column }} like '%iPhone%' or {{ column }} like '%Mobile%' then 'mobile'
        else 'desktop'
    end
{%- endmacro %}

{% macro user_agent_browser(column) -%}
    case
        when {{ column }} is null then null
        when {{ column }} like '%Trident%' or {{ column }} like '%MSIE%' then 'Internet Explorer'
        when {{ column }} like '%Firefox%' then 'Firefox'
        when {{ column }} like '%Chrome%' then 'Chrome'
        when {{ column }} like '%Safari%' then 'Safari'
        else 'Other'
    end
{%- endmacro %}
