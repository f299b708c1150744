-- ifind schema 1.10.0 (MINOR: policies, functions, privileges): no oracle on interactions, the
-- archive and the logs.
--
-- Migration 0009 made the read policy `site_id = ANY (readable sites)`. PostgreSQL still let a
-- person's own leakproof conditions become index conditions while that list stayed a filter:
-- a btree index with site_id second (the primary key), or a GIN index (btree_gin has no
-- `= ANY`), so that, for a viewer of site A,
--   EXPLAIN ANALYZE SELECT 1 FROM interactions WHERE site_id = <B>
-- scanned B's rows and reported them as "Rows Removed by Filter" (B's size, and with
-- `AND start_datetime > ...` when B meets, one question at a time).
--
-- The read policy is now an equality with one value per statement:
--   site_id = (SELECT ifind_current_site())
-- where `ifind_current_site()` is the site the transaction works on (`ifind.site`, set by
-- ifind before it reads or writes a site's rows), if the acting user may read it and it is
-- active, else NULL. An equality with a constant joins the query's own `site_id = X` in one
-- equivalence class, so PostgreSQL turns the pair into a one-time test (`X = $0`) above the
-- scan: for any other site the scan is never executed, whatever the index; and a query without
-- `site_id = X` gets `site_id = $0` as an index condition on every index (each holds site_id).
-- What a person sees of another site is exactly what they see of a site that does not exist.
--
-- The audit trail and the access log had OR-shaped policies (several kinds of rows), which no
-- index can take; their rows are now read only through SECURITY DEFINER functions that apply
-- the same rules (`ifind_audit_entries`, `ifind_access_entries`): a person's own conditions
-- apply to what those return, never to hidden rows.

-- The site the transaction works on, when the acting user may read it (an active site where
-- they have a role, any active site for a global administrator); else NULL (nothing).
CREATE FUNCTION ifind_current_site() RETURNS integer
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        site_text text := current_setting('ifind.site', true);
        site integer;
    BEGIN
        IF site_text IS NULL OR site_text !~ '^[0-9]{1,9}$' THEN
            RETURN NULL;
        END IF;
        site := site_text::integer;
        IF ifind_site_role(site) IS NULL THEN
            RETURN NULL;
        END IF;
        RETURN site;
    END
    $$;

REVOKE ALL ON FUNCTION ifind_current_site() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_current_site() TO ifind_app;

DROP POLICY app_read ON interactions;
CREATE POLICY app_read ON interactions FOR SELECT TO ifind_app
    USING (site_id = (SELECT ifind_current_site()));
DROP POLICY interactions_archive_read ON interactions_archive;
CREATE POLICY interactions_archive_read ON interactions_archive FOR SELECT TO ifind_app
    USING (site_id = (SELECT ifind_current_site()));

-- ---------------------------------------------------------------------------------------------
-- The logs: read through functions only
-- ---------------------------------------------------------------------------------------------

REVOKE SELECT ON audit_log, access_log FROM ifind_app;
REVOKE SELECT ON audit_log, access_log FROM PUBLIC;

-- Whether the session bypasses the policies: the tables' owner (or a member of it), a
-- superuser, or a BYPASSRLS role. Only for the functions below (not granted to anyone).
CREATE FUNCTION ifind_sees_all() RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        RETURN ifind_is_owner()
            OR EXISTS (SELECT 1 FROM pg_roles r
                        WHERE r.rolname = session_user AND (r.rolsuper OR r.rolbypassrls));
    END
    $$;

-- Whether the session reads every row of the logs: an active global administrator; a session
-- that bypasses the policies acting as nobody (an owner's session that names a user acts with
-- that user's rights, as the policies let it).
CREATE FUNCTION ifind_reads_everything() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        RETURN ifind_is_global_admin() OR (ifind_current_user() IS NULL AND ifind_sees_all());
    END
    $$;

-- Entries of the audit trail the acting user may read, oldest first, with the names of the
-- user and the site: site admins their sites' rows; anyone the history of the interactions of
-- the sites they may read; one's own changes at sites one may still read (or about no site);
-- everything for `ifind_reads_everything()`. Which entries:
--   p_row given: the trail of interaction p_row (at site p_site, or any site when NULL);
--   p_user given: the changes made by that user and the changes to that user's account;
--   neither: every readable entry.
CREATE FUNCTION ifind_audit_entries(p_site integer, p_row integer, p_user integer)
    RETURNS TABLE (id bigint, at timestamptz, txid bigint, table_name text, row_id integer,
                   site_id integer, site_name text, operation text, user_id integer,
                   username text, actor text, old_values text, new_values text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
    DECLARE
        everything boolean := ifind_reads_everything();
        me integer := ifind_current_user();
        readable integer[] := CASE WHEN everything THEN NULL
                                   ELSE ifind_readable_site_ids() END;
    BEGIN
        IF NOT everything AND me IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY
        SELECT a.id, a.at, a.txid, a.table_name::text, a.row_id, a.site_id, s.name::text,
               a.operation::text, a.user_id, u.username::text, a.actor::text,
               a.old_values::text, a.new_values::text
          FROM audit_log a
          LEFT JOIN users u ON u.user_id = a.user_id
          LEFT JOIN sites s ON s.site_id = a.site_id
         WHERE (p_row IS NULL
                OR (a.table_name = 'interactions' AND a.row_id = p_row
                    AND a.site_id = ANY (CASE WHEN p_site IS NULL
                                              THEN ARRAY(SELECT x.site_id FROM sites x)
                                              ELSE ARRAY[p_site] END)))
           AND (p_user IS NULL
                OR a.user_id = p_user
                OR (a.site_id IS NULL AND a.table_name = 'users' AND a.row_id = p_user))
           AND (everything
                OR (a.site_id IS NOT NULL AND ifind_site_role(a.site_id) = 'admin')
                OR (a.site_id IS NOT NULL AND a.table_name = 'interactions'
                    AND a.site_id = ANY (readable))
                OR (a.user_id = me
                    AND (a.site_id IS NULL OR ifind_site_role(a.site_id) IS NOT NULL)))
         ORDER BY a.id;
    END
    $$;

-- The latest `p_limit` entries of the access log the acting user may read, oldest first:
-- every entry for `ifind_reads_everything()`, else one's own logins (not one's refusals, whose
-- rows say whether a site one may not see exists).
CREATE FUNCTION ifind_access_entries(p_limit integer)
    RETURNS TABLE (id bigint, at timestamptz, event text, username_as_typed text,
                   user_id integer, success boolean, reason text, site_id integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
        everything boolean := ifind_reads_everything();
        me integer := ifind_current_user();
    BEGIN
        RETURN QUERY
        SELECT l.id, l.at, l.event::text, l.username_as_typed::text, l.user_id, l.success,
               l.reason::text, l.site_id
          FROM (SELECT * FROM access_log x
                 WHERE everything OR (x.event = 'login' AND x.user_id = me)
                 ORDER BY x.id DESC LIMIT greatest(p_limit, 0)) AS l
         ORDER BY l.id;
    END
    $$;

REVOKE ALL ON FUNCTION ifind_sees_all(), ifind_reads_everything(), ifind_audit_entries(integer, integer, integer),
    ifind_access_entries(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_audit_entries(integer, integer, integer),
    ifind_access_entries(integer) TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- No statistics of the shared tables
-- ---------------------------------------------------------------------------------------------

-- The planner estimates a person's own conditions with leakproof operators (`site_id =`, a
-- time range, an id) from the statistics of the whole table, whoever plans; EXPLAIN's
-- estimates, and the plan it picks, then told how many rows another site has, or when it met.
-- Migration 0011 removed the statistics of the text columns; these are the rest: no column of
-- interactions or the archive (nor an expression index on them) keeps any but interaction_id,
-- so every value gets the same estimate. interaction_id keeps its own: they say the ids are
-- unique (so `interaction_id = ANY (ids)` is planned as a few probes of the primary key, which
-- is (interaction_id, site_id) and so does not say it), and their range says only how many ids
-- were ever given, which the table's size says anyway.
-- Migration 0007's statistics of the local day (every site's meetings per day, for estimates
-- of `from:`/`to:`) go too; the Finder bounds those by a start_datetime range the date index
-- serves.
DROP STATISTICS IF EXISTS ifind_interactions_local_day;

DO $$
DECLARE
    t regclass;
    c record;
BEGIN
    FOREACH t IN ARRAY ARRAY['interactions'::regclass, 'interactions_archive'::regclass] LOOP
        FOR c IN SELECT a.attname FROM pg_attribute a
                  WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped
                    AND a.attname <> 'interaction_id' LOOP
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 0', t, c.attname);
        END LOOP;
        FOR c IN SELECT i.indexrelid::regclass AS idx, k.n
                   FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k (attnum, n)
                  WHERE i.indrelid = t AND k.attnum = 0 LOOP
            EXECUTE format('ALTER INDEX %s ALTER COLUMN %s SET STATISTICS 0', c.idx, c.n);
        END LOOP;
    END LOOP;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        DELETE FROM pg_catalog.pg_statistic s
         WHERE (s.starelid IN ('interactions'::regclass, 'interactions_archive'::regclass)
                AND s.staattnum <> (SELECT a.attnum FROM pg_attribute a
                                     WHERE a.attrelid = s.starelid
                                       AND a.attname = 'interaction_id'))
            OR s.starelid IN (SELECT i.indexrelid FROM pg_index i
                               WHERE i.indrelid IN ('interactions'::regclass,
                                                    'interactions_archive'::regclass));
        -- Synthetic statistics in their place: the same for every value, so they tell nothing,
        -- but say what the plans need (measured, BENCHMARKS.md): a site is a sizeable part of
        -- the table (20 distinct sites: without it a site was estimated at 0.5% of the table,
        -- and a page of a common word sorted every row of the site instead of walking the date
        -- index), and nearly every row is live (`deleted_at IS NULL` was estimated at 0.5%).
        -- ANALYZE leaves them alone (statistics target 0).
        INSERT INTO pg_catalog.pg_statistic
            (starelid, staattnum, stainherit, stanullfrac, stawidth, stadistinct,
             stakind1, stakind2, stakind3, stakind4, stakind5,
             staop1, staop2, staop3, staop4, staop5,
             stacoll1, stacoll2, stacoll3, stacoll4, stacoll5)
        SELECT a.attrelid, a.attnum, false, x.nullfrac, x.width, x.ndistinct,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
          FROM (VALUES ('site_id', 0::real, 4, 20::real),
                       ('deleted_at', 0.99::real, 8, -0.01::real)) AS x (col, nullfrac, width,
                                                                         ndistinct),
               pg_attribute a
         WHERE a.attrelid IN ('interactions'::regclass, 'interactions_archive'::regclass)
           AND a.attname = x.col;
    ELSE
        RAISE NOTICE 'ifind: a superuser should delete, in this database, the rows of '
            'pg_statistic of interactions and interactions_archive (but interaction_id) and '
            'of their indexes: the statistics ANALYZE gathered before this migration, which '
            'it no longer gathers';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Counts for the site lists
-- ---------------------------------------------------------------------------------------------

-- The number of live interactions of `p_site`, for the site picker and `ifind site list`,
-- which list several sites at once while the policy shows one: counted as the owner when the
-- session may read the site (or reads everything), else NULL.
CREATE FUNCTION ifind_live_count(p_site integer) RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF ifind_site_role(p_site) IS NULL AND NOT ifind_reads_everything() THEN
            RETURN NULL;
        END IF;
        RETURN (SELECT count(*) FROM interactions i
                 WHERE i.site_id = p_site AND i.deleted_at IS NULL);
    END
    $$;

REVOKE ALL ON FUNCTION ifind_live_count(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_live_count(integer) TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- Counting many matches through the indexes
-- ---------------------------------------------------------------------------------------------

-- The number of the site's live rows (and archived rows when `p_archive`) that match every
-- given condition, as `ifind_match_ids` takes them, counted up to `p_cap` + 1 per table: for
-- the Finder's count when there are more matches than `ifind_match_ids` lists (a person's own
-- statement may no longer use the text index, migration 0011, and walking the site's rows to
-- count a word held by 2% of them read the whole site). A condition dense among the site's
-- 200 newest rows (a common word, a short prefix: `ifind_match_ids`' own test) is counted by
-- walking the site's rows instead, with the operators written as functions no index serves:
-- the walk finds the cap within a few thousand rows, where the index would first collect every
-- match (and expand a prefix over every site's words). 0 when the session may not search the
-- site.
CREATE FUNCTION ifind_match_count(p_site integer, p_text tsquery, p_lead text, p_location text,
                                  p_archive boolean, p_cap integer)
    RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
        indexed text := 'site_id = $1 AND deleted_at IS NULL';
        walked text := 'site_id = $1 AND deleted_at IS NULL';
        newest text := 'true';
        cond text;
        body text;
        dense bigint;
        n bigint;
    BEGIN
        IF NOT ifind_may_search(p_site) THEN
            RETURN 0;
        END IF;
        IF p_text IS NOT NULL THEN
            indexed := indexed || ' AND search_vector @@ $2';
            walked := walked || ' AND ts_match_vq(search_vector, $2)';
            newest := newest || ' AND n.search_vector @@ $2';
        END IF;
        IF p_lead IS NOT NULL THEN
            indexed := indexed || ' AND lead ILIKE $3';
            walked := walked || ' AND texticlike(lead, $3)';
            newest := newest || ' AND n.lead ILIKE $3';
        END IF;
        IF p_location IS NOT NULL THEN
            indexed := indexed || ' AND location ILIKE $4';
            walked := walked || ' AND texticlike(location, $4)';
            newest := newest || ' AND n.location ILIKE $4';
        END IF;
        EXECUTE 'SELECT count(*) FROM (SELECT search_vector, lead, location '
             || 'FROM interactions WHERE site_id = $1 AND deleted_at IS NULL '
             || 'ORDER BY start_datetime DESC LIMIT 200) AS n WHERE ' || newest
           INTO dense
          USING p_site, p_text, p_lead, p_location;
        -- The walk goes newest first, as the Finder's does (the date index of the site); the
        -- planner, which has no statistics of these conditions, might otherwise read the
        -- whole table in search of a small site's rows.
        -- `lead:` and `location:` always go by their trigram indexes: a name dense among the
        -- newest rows may be rare before them, and the walk then read the whole site.
        cond := CASE WHEN dense >= 20 AND p_lead IS NULL AND p_location IS NULL
                     THEN walked || ' ORDER BY start_datetime DESC'
                     ELSE indexed END;
        body := '(SELECT 1 FROM interactions WHERE ' || cond || ' LIMIT $5)';
        IF p_archive THEN
            body := body || ' UNION ALL (SELECT 1 FROM interactions_archive WHERE ' || cond
                         || ' LIMIT $5)';
        END IF;
        EXECUTE 'SELECT count(*) FROM (' || body || ') AS s'
           INTO n
          USING p_site, p_text, p_lead, p_location, greatest(p_cap, 0)::bigint + 1;
        RETURN n;
    END
    $$;

REVOKE ALL ON FUNCTION ifind_match_count(integer, tsquery, text, text, boolean, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_match_count(integer, tsquery, text, text, boolean, integer)
    TO ifind_app;
