-- ifind schema 1.12.0 (MINOR: functions): the search entry points answer the newest matches,
-- and the most similar near matches, also when more rows match than the caller's cap.
--
-- Until now `ifind_match_ids` and `ifind_near_ids` stopped after any `p_cap` + 1 matches and
-- answered NULL: the Finder then tested the site's rows itself, newest first, with operators
-- no index serves (a person's own statement may not use the text and trigram indexes:
-- migration 0011). At 1,000,000 rows that was slower than before migration 0011 for the
-- words in between (2,000 to 17,000 matches on a site of 170,000 rows and not dense among its
-- newest rows: the walk read 10,000 rows to find the 200 newest matches that relevance
-- ranks, 47 ms at p50 against 28 ms) and for typos (the near-match fallback computed the
-- similarity of every row of the site: 1.4-1.9 s against 60-140 ms).
--
-- Now both collect every match through the index, as the owner, as the Finder's statement did
-- before migration 0011, and answer the first `p_cap` + 1 in the order the Finder needs:
-- * `ifind_match_ids`: newest first (start_datetime, then id, descending). More than `p_cap`
--   ids means more rows match than listed; the first page's rows (the newest 51, or the
--   newest 200 that relevance ranks) are the first ids, read by key. Still NULL when the
--   condition is dense among the site's newest rows of a site of more than 3,000 rows (the
--   date-ordered walk finds a page there within a few hundred rows; on a smaller site every
--   match is collected, whose ids then give the count as well), '{}' when the session may not
--   search the site.
--   A `lead:` or `location:` without text counts as dense from 5 of the newest 200 rows on.
-- * `ifind_near_ids`: most similar first (the larger word similarity of title and lead, then
--   newest first): the fallback's page is the first ids, or, under filters the entry point
--   does not evaluate, the first ids that pass them.
-- What the functions answer stays within the site the session may search: they check it
-- first, as before (`ifind_may_search`, which now uses migration 0012's `ifind_sees_all`).

CREATE OR REPLACE FUNCTION ifind_may_search(p_site integer) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        IF ifind_sees_all() THEN
            RETURN true;
        END IF;
        RETURN ifind_site_role(p_site) IS NOT NULL
           AND EXISTS (SELECT 1 FROM sites s WHERE s.site_id = p_site AND s.is_active);
    END
    $$;

CREATE OR REPLACE FUNCTION ifind_match_ids(p_site integer, p_text tsquery, p_lead text,
                                           p_location text, p_archive boolean, p_cap integer)
    RETURNS integer[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
        cond text := 'site_id = $1 AND deleted_at IS NULL';
        body text;
        ids integer[];
        -- The same conditions on the newest rows `n`.
        newest text := 'true';
        dense bigint;
        live bigint := 0;
    BEGIN
        IF NOT ifind_may_search(p_site) THEN
            RETURN '{}'::integer[];
        END IF;
        IF p_text IS NOT NULL THEN
            cond := cond || ' AND search_vector @@ $2';
            newest := newest || ' AND n.search_vector @@ $2';
        END IF;
        IF p_lead IS NOT NULL THEN
            cond := cond || ' AND lead ILIKE $3';
            newest := newest || ' AND n.lead ILIKE $3';
        END IF;
        IF p_location IS NOT NULL THEN
            cond := cond || ' AND location ILIKE $4';
            newest := newest || ' AND n.location ILIKE $4';
        END IF;
        -- Dense among the site's newest rows (a common word, a short prefix): the Finder's
        -- date-ordered walk finds a page within a few hundred rows, and collecting every match
        -- through the index would cost more than the walk. 200 rows read by the date index.
        -- Only on a site of more than 3,000 live rows (counted in the live-rows index): on a
        -- smaller one every match costs little to collect, and its ids give the count too.
        IF p_text IS NOT NULL OR p_lead IS NOT NULL OR p_location IS NOT NULL THEN
            EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM interactions '
                 || 'WHERE site_id = $1 AND deleted_at IS NULL LIMIT 3001) AS s'
               INTO live
              USING p_site;
        END IF;
        IF live > 3000 THEN
            EXECUTE 'SELECT count(*) FROM (SELECT search_vector, lead, location '
                 || 'FROM interactions WHERE site_id = $1 AND deleted_at IS NULL '
                 || 'ORDER BY start_datetime DESC LIMIT 200) AS n WHERE ' || newest
               INTO dense
              USING p_site, p_text, p_lead, p_location;
            -- A name (`lead:`, `location:` alone) is walked from 5 of 200 on: its trigram index
            -- rechecks every match (9,672 rows of a lead held by 6% of the largest site: 39 ms,
            -- where the walk finds a page within 1,000 rows).
            IF dense >= (CASE WHEN p_text IS NULL THEN 5 ELSE 20 END) THEN
                RETURN NULL;
            END IF;
        END IF;
        body := 'SELECT interaction_id, start_datetime FROM interactions WHERE ' || cond;
        IF p_archive THEN
            body := body || ' UNION ALL SELECT interaction_id, start_datetime '
                         || 'FROM interactions_archive WHERE ' || cond;
        END IF;
        -- Every match, then the newest p_cap + 1 of them (a top-N sort).
        EXECUTE 'SELECT array_agg(i ORDER BY t DESC, i DESC) FROM (' || body
             || ' ORDER BY 2 DESC, 1 DESC LIMIT $5) AS s (i, t)'
           INTO ids
          USING p_site, p_text, p_lead, p_location, greatest(p_cap, 0)::bigint + 1;
        RETURN coalesce(ids, '{}'::integer[]);
    END
    $$;

CREATE OR REPLACE FUNCTION ifind_near_ids(p_site integer, p_words text, p_cap integer)
    RETURNS integer[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
        ids integer[];
    BEGIN
        IF NOT ifind_may_search(p_site) THEN
            RETURN '{}'::integer[];
        END IF;
        -- The order of the Finder's near-match statement (src/db/search.rs, near_statement).
        EXECUTE 'SELECT array_agg(i ORDER BY r DESC, t DESC, i DESC) FROM ('
             || 'SELECT interaction_id, start_datetime, '
             || 'greatest(word_similarity($2, title), word_similarity($2, lead)) '
             || 'FROM interactions '
             || 'WHERE site_id = $1 AND deleted_at IS NULL AND ($2 <% title OR $2 <% lead) '
             || 'ORDER BY 3 DESC, 2 DESC, 1 DESC LIMIT $3) AS s (i, t, r)'
           INTO ids
          USING p_site, p_words, greatest(p_cap, 0)::bigint + 1;
        RETURN coalesce(ids, '{}'::integer[]);
    END
    $$;

