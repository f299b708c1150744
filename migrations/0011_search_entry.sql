-- ifind schema 1.9.0 (MINOR: functions, planner settings): searches no longer depend on
-- LEAKPROOF marks.
--
-- Migration 0003 marked `ts_match_vq` (`@@`), `texticlike` (ILIKE) and `word_similarity_op`
-- (`<%`) LEAKPROOF so that the text and trigram indexes stayed usable under row-level security.
-- That made them an oracle: PostgreSQL evaluates a LEAKPROOF condition of the user's own query
-- before the policies (and may make it an index condition), so
--   EXPLAIN ANALYZE SELECT 1 FROM interactions WHERE site_id = <another site>
--                                               AND title ILIKE '%guess%'
-- reported "Rows Removed by Filter" for rows the policies hide: one bit of another site's text
-- per question. This migration takes the marks away again; a condition with those operators in
-- anyone's own statement now runs after the policies, on rows the user may read.
--
-- The speed comes back through entry points that check the site first. `ifind_match_ids` and
-- `ifind_near_ids` run as the owner (SECURITY DEFINER); before they touch a row they check that
-- the caller may read the site and that the site is active, and answer an empty array
-- otherwise (the same answer as "nothing matches": no error says whether the site exists).
-- Only then do they use the indexes, as the owner, and return the matching ids of that one
-- site, or NULL when there are more than the caller's cap. The Finder adds
-- `interaction_id = ANY (ids)` to its statement (its own conditions still apply, after the
-- policies, to those few rows: the results are the same), or, for NULL (a common word), keeps
-- the date-ordered walk that stops after a page (see src/db/search.rs).
--
-- Sessions that bypass the policies anyway (a superuser, a BYPASSRLS role, a member of the
-- tables' owner: the owner credential of migrations, seeding and one-person use) skip both
-- checks: the policies never applied to them.
--
-- Planner statistics of `search_vector` are removed as well: the full-text selectivity
-- estimator reads the most common lexemes of the whole table whoever plans, so EXPLAIN's row
-- estimates for `search_vector @@ 'word'` told how common a word was in every site. Without
-- them the estimate is the same for every word; the Finder writes its statements so that the
-- plans it needs do not depend on that estimate.

DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF;
        ALTER FUNCTION pg_catalog.texticlike(text, text) NOT LEAKPROOF;
        ALTER FUNCTION word_similarity_op(text, text) NOT LEAKPROOF;
        DELETE FROM pg_catalog.pg_statistic s
         USING pg_catalog.pg_attribute a
         WHERE s.starelid = a.attrelid AND s.staattnum = a.attnum
           AND a.attrelid IN ('interactions'::regclass, 'interactions_archive'::regclass)
           AND a.attname = 'search_vector';
    ELSE
        RAISE NOTICE 'ifind: a superuser should run, in this database: ALTER FUNCTION '
            'pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF; ALTER FUNCTION '
            'pg_catalog.texticlike(text, text) NOT LEAKPROOF; ALTER FUNCTION '
            'word_similarity_op(text, text) NOT LEAKPROOF; DELETE FROM pg_statistic WHERE '
            'starelid IN (''interactions''::regclass, ''interactions_archive''::regclass) AND '
            'staattnum = (SELECT attnum FROM pg_attribute WHERE attrelid = starelid AND '
            'attname = ''search_vector''); (only a superuser can have marked them LEAKPROOF '
            'in the first place)';
    END IF;
END
$$;

-- No new statistics for the column (ANALYZE skips it from now on).
ALTER TABLE interactions ALTER COLUMN search_vector SET STATISTICS 0;
ALTER TABLE interactions_archive ALTER COLUMN search_vector SET STATISTICS 0;

-- Whether the session may search `p_site`: its login role bypasses the policies (superuser,
-- BYPASSRLS, the tables' owner: `ifind_is_owner`), or the acting user (from session_user, see
-- migration 0009) may read the site (`ifind_site_role`) and the site is active. Run as the
-- owner, so it sees every site.
CREATE FUNCTION ifind_may_search(p_site integer) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        IF ifind_is_owner()
           OR EXISTS (SELECT 1 FROM pg_roles r
                       WHERE r.rolname = session_user AND (r.rolsuper OR r.rolbypassrls))
        THEN
            RETURN true;
        END IF;
        RETURN ifind_site_role(p_site) IS NOT NULL
           AND EXISTS (SELECT 1 FROM sites s WHERE s.site_id = p_site AND s.is_active);
    END
    $$;

-- The ids of the site's live rows (and archived rows when `p_archive`) that match every given
-- condition: `search_vector @@ p_text`, `lead ILIKE p_lead`, `location ILIKE p_location` (a NULL
-- condition is left out), newest first (start_datetime, then id, descending: the Finder's date
-- order, so that a first page needs only the first ids); NULL when more than `p_cap` rows match,
-- or when at least 20 of the site's 200 newest live rows match (then the Finder's date-ordered
-- walk is cheap and enumerating the matches is not); '{}' when the session may not search the
-- site. The statement is planned for the values at
-- hand (EXECUTE), so the text and trigram indexes serve it.
CREATE FUNCTION ifind_match_ids(p_site integer, p_text tsquery, p_lead text, p_location text,
                                p_archive boolean, p_cap integer)
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
        -- date-ordered walk finds a page within a few hundred rows, and enumerating every match
        -- through the index would cost more than the walk. 200 rows read by the date index.
        IF p_text IS NOT NULL OR p_lead IS NOT NULL OR p_location IS NOT NULL THEN
            EXECUTE 'SELECT count(*) FROM (SELECT search_vector, lead, location '
                 || 'FROM interactions WHERE site_id = $1 AND deleted_at IS NULL '
                 || 'ORDER BY start_datetime DESC LIMIT 200) AS n WHERE ' || newest
               INTO dense
              USING p_site, p_text, p_lead, p_location;
            IF dense >= 20 THEN
                RETURN NULL;
            END IF;
        END IF;
        body := 'SELECT interaction_id, start_datetime FROM interactions WHERE ' || cond;
        IF p_archive THEN
            body := body || ' UNION ALL SELECT interaction_id, start_datetime '
                         || 'FROM interactions_archive WHERE ' || cond;
        END IF;
        EXECUTE 'SELECT array_agg(i ORDER BY t DESC, i DESC) FROM (' || body
             || ' LIMIT $5) AS s (i, t)'
           INTO ids
          USING p_site, p_text, p_lead, p_location, greatest(p_cap, 0)::bigint + 1;
        IF cardinality(ids) > greatest(p_cap, 0) THEN
            RETURN NULL;
        END IF;
        RETURN coalesce(ids, '{}'::integer[]);
    END
    $$;

-- The typo-tolerant fallback's candidates: the ids of the site's live rows whose title or lead
-- has words similar to `p_words` (`<%`, under the transaction's
-- pg_trgm.word_similarity_threshold, served by the site-first trigram indexes); NULL when more
-- than `p_cap` rows are similar; '{}' when the session may not search the site.
CREATE FUNCTION ifind_near_ids(p_site integer, p_words text, p_cap integer)
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
        EXECUTE 'SELECT array_agg(i) FROM (SELECT interaction_id FROM interactions '
             || 'WHERE site_id = $1 AND deleted_at IS NULL AND ($2 <% title OR $2 <% lead) '
             || 'LIMIT $3) AS s (i)'
           INTO ids
          USING p_site, p_words, greatest(p_cap, 0)::bigint + 1;
        IF cardinality(ids) > greatest(p_cap, 0) THEN
            RETURN NULL;
        END IF;
        RETURN coalesce(ids, '{}'::integer[]);
    END
    $$;

REVOKE ALL ON FUNCTION ifind_may_search(integer),
    ifind_match_ids(integer, tsquery, text, text, boolean, integer),
    ifind_near_ids(integer, text, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_match_ids(integer, tsquery, text, text, boolean, integer),
    ifind_near_ids(integer, text, integer)
    TO ifind_app;
