-- ifind schema 1.15.0 (MINOR: an index, a function): relevance is exact over every match.
--
-- Relevance used to rank the newest 200 matches with ts_rank and list the older ones after
-- them, so a common word's first page was the best of a window, not of all matches. It now
-- orders every match by where the words are: the heading fields (title, lead, type, location)
-- before the text (description, notes), newest first within each (README "Relevance"). A word
-- common in the text but absent from the headings (or the other way round) made the Finder's
-- newest-first walk of the heading tier read the whole site (2 s on a site of 170,000 rows).
-- This index holds the heading part of `search_vector` (the same expression: its A and B
-- labels, `ts_filter(search_vector, '{a,b}')` of every row), and `ifind_heading_ids` answers
-- the heading tier's ids through it, newest first, as `ifind_match_ids` does for all matches:
-- the newest `p_cap` + 1, NULL when the heading matches are dense among the site's newest rows
-- (the walk then finds a page at once), '{}' when the session may not search the site.

CREATE INDEX ftidx_interactions_heading ON interactions USING gin (site_id, (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig,
        coalesce(lead, '') || ' ' || coalesce(type, '') || ' ' || coalesce(location, '')), 'B')));

CREATE FUNCTION ifind_heading_ids(p_site integer, p_text tsquery, p_cap integer)
    RETURNS integer[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
        ids integer[];
        dense bigint;
        live bigint := 0;
    BEGIN
        IF NOT ifind_may_search(p_site) THEN
            RETURN '{}'::integer[];
        END IF;
        IF p_text IS NULL THEN
            RETURN NULL;
        END IF;
        EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM interactions '
             || 'WHERE site_id = $1 AND deleted_at IS NULL LIMIT 3001) AS s'
           INTO live
          USING p_site;
        IF live > 3000 THEN
            EXECUTE 'SELECT count(*) FROM (SELECT search_vector FROM interactions '
                 || 'WHERE site_id = $1 AND deleted_at IS NULL '
                 || 'ORDER BY start_datetime DESC LIMIT 200) AS n '
                 || 'WHERE ts_filter(n.search_vector, ''{a,b}'') @@ $2'
               INTO dense
              USING p_site, p_text;
            IF dense >= 20 THEN
                RETURN NULL;
            END IF;
        END IF;
        EXECUTE 'SELECT array_agg(i ORDER BY t DESC, i DESC) FROM ('
             || 'SELECT interaction_id, start_datetime FROM interactions '
             || 'WHERE site_id = $1 AND deleted_at IS NULL AND ('
             || 'setweight(to_tsvector(''english''::regconfig, coalesce(title, '''')), ''A'') || '
             || 'setweight(to_tsvector(''english''::regconfig, coalesce(lead, '''') || '' '' || '
             || 'coalesce(type, '''') || '' '' || coalesce(location, '''')), ''B'')) @@ $2 '
             || 'ORDER BY 2 DESC, 1 DESC LIMIT $3) AS s (i, t)'
           INTO ids
          USING p_site, p_text, greatest(p_cap, 0)::bigint + 1;
        RETURN coalesce(ids, '{}'::integer[]);
    END
    $$;

REVOKE ALL ON FUNCTION ifind_heading_ids(integer, tsquery, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_heading_ids(integer, tsquery, integer) TO ifind_app;
