{#-
    The newest batch this model's table has processed (its `batch_column`), as a SQL string
    literal: '' on a full build and at parse time. A literal, not a subquery, because Delta skips
    files by their statistics only for values known when the query is planned: with the literal,
    a build reads the files of the new batches alone, where a subquery made it read every file.
-#}
{% macro newest_batch_literal(batch_column) %}
    {% if not (execute and is_incremental()) %}
        {{ return("''") }}
    {% endif %}
    {% set newest = run_query('select max(' ~ batch_column ~ ') from ' ~ this).columns[0].values()[0] %}
    {{ return(checked_literals(newest, 'batch id') if newest else "''") }}
{% endmacro %}


{#-
    Dates an incremental model must recompute: the event dates of the rows `new_rows` selects in
    `source_relation` (a predicate on its batch columns, against `newest_batch_literal`). Late
    events (an old event_date in a new batch) are therefore counted exactly, with no fixed lookback.

    Returns a list of 'YYYY-MM-DD' strings; empty on a full build (is_incremental() false) and
    at parse time.
-#}
{% macro dates_in_new_batches(source_relation, date_column, new_rows) %}
    {% if not (execute and is_incremental()) %}
        {{ return([]) }}
    {% endif %}
    {% set query %}
        select distinct cast({{ date_column }} as string) as event_date
        from {{ source_relation }}
        where {{ new_rows }}
    {% endset %}
    {% set rows = run_query(query) %}
    {{ return(rows.columns[0].values() | list) }}
{% endmacro %}


{#-
    The event dates an incremental build of a session model must read: the dates the new batches
    brought (`new_dates`), and every date on which a session they touched already has events. The
    model's own table knows the latter: a built session's events lie between its first and its last
    event, so its dates are the days from `session_start_date` to the date of `session_end_ts` (a
    session across midnight, or a session id the user reused days later). Reading only those
    partitions, instead of every staged event, rebuilds the same sessions from the same events.

    Returns sorted 'YYYY-MM-DD' strings; empty on a full build and at parse time.
-#}
{% macro dates_of_touched_sessions(events_relation, new_dates) %}
    {% if not (execute and is_incremental()) or new_dates | length == 0 %}
        {{ return([]) }}
    {% endif %}
    {% set query %}
        with
        touched as (
            select distinct user_id, session_id
            from {{ events_relation }}
            where user_id is not null and {{ in_dates('event_date', new_dates) }}
        ),
        spanned as (
            select explode(sequence(built.session_start_date, to_date(built.session_end_ts))) as event_date
            from {{ this }} as built
            inner join touched
                on built.user_id = touched.user_id and built.session_id = touched.session_id
        )
        select distinct cast(event_date as string) as event_date from spanned
    {% endset %}
    {% set spanned = run_query(query).columns[0].values() | list %}
    {{ return((new_dates + spanned) | unique | sort | list) }}
{% endmacro %}


{#- A SQL predicate "column in (dates)", or false when there are none. -#}
{% macro in_dates(column, dates) -%}
    {%- if dates | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for d in dates %}date'{{ d }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}


{#-
    The as-of dates an incremental build of a point-in-time mart must write: every spine date after
    the first activity date that changed since the mart's last build (its to-date features read
    every earlier day, and a changed day can also move a user into or out of the spine), every
    spine date the mart lacks, and every date whose is_labelled changed (yesterday's scoring date).
    The last build's newest activity batch is the table property `through_property`
    (record_through_batch); every spine date when that is unknown. A table built before it was
    partitioned by as_of_date stops the build with the command that rebuilds it.

    A mart of labels reads the days of each date's label window too: with reach_column
    'horizon_end_date' a date is rebuilt when its window ends after the first changed day. With
    labelled_only, the spine is the labelled dates alone (a mart that has no scoring date).

    Returns a list of 'YYYY-MM-DD' strings; empty on a full build and at parse time.
-#}
{% macro as_of_dates_to_rebuild(spine, activity, through_property, reach_column='as_of_date', labelled_only=false) %}
    {% if not (execute and is_incremental()) %}
        {{ return([]) }}
    {% endif %}
    {% set detail = run_query('describe detail ' ~ this) %}
    {% set partitioned = 'as_of_date' in (detail.columns['partitionColumns'].values()[0] | string) %}
    {% set through = table_property(this, through_property) %}
    {% if not partitioned %}
        {% do exceptions.raise_compiler_error(
            this ~ ' was built by an earlier version, before it was partitioned by as_of_date: rebuild it once '
            ~ 'with `sparkify build --full-refresh --select ' ~ this.identifier ~ '+`'
        ) %}
    {% endif %}
    {% set query %}
        with
        spine as (
            select as_of_date, is_labelled, {{ reach_column }} as reach_date from {{ spine }}
            where {{ 'is_labelled' if labelled_only else 'true' }}
        ),
        built as (
            select distinct as_of_date, {{ 'true' if labelled_only else 'is_labelled' }} as is_labelled from {{ this }}
        ),
        changed as (
            select min(activity_date) as first_changed_date
            from {{ activity }}
            where last_batch_id > {{ checked_literals(through, 'batch id') if through else "''" }}
        )
        select cast(spine.as_of_date as string) as as_of_date
        from spine
        cross join changed
        left join built
            on spine.as_of_date = built.as_of_date and spine.is_labelled = built.is_labelled
        where built.as_of_date is null or spine.reach_date > changed.first_changed_date
        order by as_of_date
    {% endset %}
    {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}


{#- Post-hook of a point-in-time mart: delete its as-of dates that left the spine (the scoring date
    of the last build, once a new day follows it; with labelled_only, a date no longer labelled).
    Nothing to run when none did. -#}
{% macro delete_as_of_dates_outside(spine_relation, labelled_only=false) -%}
    {%- if execute -%}
        {%- set stale -%}
            select distinct cast(as_of_date as string) as as_of_date from {{ this }}
            where as_of_date not in (
                select spine.as_of_date from {{ spine_relation }} as spine
                where {{ 'spine.is_labelled' if labelled_only else 'true' }}
            )
        {%- endset -%}
        {%- set dates = run_query(stale).columns[0].values() | list -%}
        {%- if dates -%}
            delete from {{ this }} where {{ in_dates('as_of_date', dates) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook: record the newest batch of `activity_relation` the model has read, for
    as_of_dates_to_rebuild. -#}
{% macro record_through_batch(activity_relation, through_property) -%}
    {%- if execute -%}
        {%- set newest = run_query('select max(last_batch_id) from ' ~ activity_relation).columns[0].values()[0] -%}
        {%- if newest -%}
            alter table {{ this }} set tblproperties ('{{ through_property }}' = {{ checked_literals(newest, 'batch id') }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of a mart built from other point-in-time marts: record the oldest batch its inputs
    were built through (their own through properties), so a build that ran ahead of an input (a
    --select of this mart alone) rebuilds those dates again once the input catches up. When an
    input records none, neither does this mart: its next build rewrites every date. -#}
{% macro record_through_batch_of_inputs(inputs, through_property) -%}
    {%- if execute -%}
        {%- set batches = [] -%}
        {%- for relation, property in inputs -%}
            {%- do batches.append(table_property(relation, property)) -%}
        {%- endfor -%}
        {%- set oldest = batches | min -%}
        {%- if oldest -%}
            alter table {{ this }} set tblproperties ('{{ through_property }}' = {{ checked_literals(oldest, 'batch id') }})
        {%- else -%}
            alter table {{ this }} unset tblproperties if exists ('{{ through_property }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The value of table property `name` on `relation`, or '' when it has none. -#}
{% macro table_property(relation, name) -%}
    {%- set found = [] -%}
    {%- for row in run_query('show tblproperties ' ~ relation) -%}
        {%- if row[0] == name -%}
            {%- do found.append(row[1]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(found[0] if found else '') -}}
{%- endmacro %}
