-- ifind schema 1.1.0 (MINOR: a role, functions and policies; no column changes).
--
-- Site isolation enforced by PostgreSQL. Two roles:
-- * the owner: whoever runs the migrations (the embedded cluster's superuser `ifind`, or the
--   role of database.owner_url). It owns the tables and runs migrations and admin commands.
--   It should bypass row-level security (a superuser or BYPASSRLS): its bulk loads (seed,
--   import) use COPY, which PostgreSQL refuses on a table whose policies apply to the caller.
--   For an owner that does not, the `ifind_owner_all` policies below keep every other command
--   working (and keep the SECURITY DEFINER functions from recursing into the policies).
-- * ifind_app: what the Finder, the forms and the user-acting CLI commands connect as. Not a
--   superuser, no BYPASSRLS, owns nothing; it gets exactly the privileges the app uses, and the
--   policies below decide which rows. ifind refuses to run its app connection as a role that
--   could bypass them.
--
-- The acting user is the transaction-local setting `ifind.user_id` (set by Db::begin_as). With
-- no acting user, ifind_app sees no row of any of the four tables.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ifind_app') THEN
        CREATE ROLE ifind_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION
    -- Another database of the same cluster created it at the same moment.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Who is acting, and what may they do.
-- ---------------------------------------------------------------------------------------------

-- The acting user, or NULL.
CREATE OR REPLACE FUNCTION ifind_current_user() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('ifind.user_id', true), '')::integer $$;

-- The functions that read users and mappings for the policies run as the owner (SECURITY
-- DEFINER), so that they see those rows whatever the policies on them say (the owner bypasses
-- row-level security, or the ifind_owner_all policies below admit it), with a fixed search_path.
-- They are PL/pgSQL, whose statements keep their plans for the connection, and they force those
-- plans generic: the Finder's search sets plan_cache_mode = force_custom_plan for its own
-- statements, which would otherwise re-plan these tiny queries at every call (measured: 0.4 ms
-- instead of 0.06 ms per call).

-- The acting user's role at a site: 'admin' for an active global administrator, else the active
-- user's role there, else NULL.
CREATE OR REPLACE FUNCTION ifind_site_role(p_site integer) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        RETURN (SELECT CASE
                           WHEN u.is_global_admin THEN 'admin'
                           ELSE (SELECT m.role::text FROM user_site_mapping m
                                  WHERE m.user_id = u.user_id AND m.site_id = p_site)
                       END
                  FROM users u
                 WHERE u.user_id = ifind_current_user() AND u.is_active);
    END
    $$;

-- The sites the acting user may read, for policies: NULL for an active global administrator
-- (every site), the mapped sites for anyone else, none ('{}') without an active acting user.
CREATE OR REPLACE FUNCTION ifind_site_filter() RETURNS integer[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        sites integer[];
    BEGIN
        -- One statement: it runs once per statement of the Finder, so it is kept short.
        SELECT CASE WHEN u.is_global_admin THEN NULL
                    ELSE ARRAY(SELECT m.site_id FROM user_site_mapping m
                                WHERE m.user_id = u.user_id ORDER BY 1)
               END
          INTO sites
          FROM users u WHERE u.user_id = ifind_current_user() AND u.is_active;
        IF NOT FOUND THEN
            RETURN '{}'::integer[];
        END IF;
        RETURN sites;
    END
    $$;

-- The sites the acting user may read: every site for a global administrator, the mapped sites
-- for anyone else, none without an active acting user.
CREATE OR REPLACE FUNCTION ifind_readable_sites() RETURNS integer[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        RETURN COALESCE(ifind_site_filter(), ARRAY(SELECT s.site_id FROM sites s ORDER BY 1));
    END
    $$;

-- The users the acting user may see, for policies: NULL for an active global administrator
-- (everyone); else themselves, the members of their sites and the global administrators (who
-- create and edit anywhere), so that "created by" and "updated by" have names; none ('{}')
-- without an active acting user.
CREATE OR REPLACE FUNCTION ifind_user_filter() RETURNS integer[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        me record;
    BEGIN
        SELECT u.user_id, u.is_global_admin INTO me
          FROM users u WHERE u.user_id = ifind_current_user() AND u.is_active;
        IF NOT FOUND THEN
            RETURN '{}'::integer[];
        END IF;
        IF me.is_global_admin THEN
            RETURN NULL;
        END IF;
        RETURN ARRAY(SELECT me.user_id
                     UNION
                     SELECT o.user_id FROM user_site_mapping o
                      WHERE o.site_id IN (SELECT m.site_id FROM user_site_mapping m
                                           WHERE m.user_id = me.user_id)
                     UNION
                     SELECT a.user_id FROM users a WHERE a.is_global_admin
                     ORDER BY 1);
    END
    $$;

-- The row test of the read policies: whether `p_value` is in `p_allowed` (NULL: everything).
-- Policies call it as `ifind_allowed(site_id, (SELECT ifind_site_filter()))`, a shape chosen
-- for the planner:
-- * the scalar subquery runs once per statement (an InitPlan), not once per row;
-- * the function is plain SQL, so it is inlined; the test is never an index condition (so a GIN
--   index that leads with site_id is never scanned once per array element: the query's own
--   `site_id = $1` chooses the index) and costs a few operations per row;
-- * `NULLIF(..., false) IS NOT NULL` is true exactly when the test is, but the planner estimates
--   it as almost always true (as it is for a user reading their own site), where
--   `site_id = ANY (array)` would count as a filter that removes most rows and tip LIMIT queries
--   into worse plans (measured: 2 ms -> 20 ms for a `lead:` search of a large site).
CREATE OR REPLACE FUNCTION ifind_allowed(p_value integer, p_allowed integer[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(COALESCE(p_value = ANY (p_allowed), true), false) IS NOT NULL $$;

-- Login happens before there is an acting user, so the app reads the one row it needs through
-- these. The password hash never leaves the database otherwise: ifind_app has no SELECT on
-- users.password_hash.
CREATE OR REPLACE FUNCTION ifind_login_user(p_username text)
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT u.user_id, u.username::text, u.email::text, u.last_login, u.is_active,
               u.is_global_admin, u.password_hash::text
          FROM users u WHERE u.username = p_username
    $$;

-- The default acting user of the CLI: the first active global administrator.
CREATE OR REPLACE FUNCTION ifind_first_global_admin()
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT u.user_id, u.username::text, u.email::text, u.last_login, u.is_active,
               u.is_global_admin
          FROM users u WHERE u.is_global_admin AND u.is_active
         ORDER BY u.user_id LIMIT 1
    $$;

-- Whether the database has any user yet (the TUI's first-run check).
CREATE OR REPLACE FUNCTION ifind_has_users() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM users) $$;

-- Deleting and restoring (setting or clearing deleted_at) is for site admins. A policy sees
-- only one version of the row, so a trigger compares the old and the new. It applies to the
-- application role; the owner's admin commands decide for themselves.
CREATE OR REPLACE FUNCTION ifind_guard_soft_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF NEW.deleted_at IS DISTINCT FROM OLD.deleted_at
           AND pg_has_role(current_user, 'ifind_app', 'MEMBER')
           AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r
                     WHERE r.rolname = current_user)
           AND ifind_site_role(OLD.site_id) IS DISTINCT FROM 'admin'
        THEN
            RAISE EXCEPTION 'only a site admin may delete or restore interactions (interaction %)',
                OLD.interaction_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'ask an admin of the site to do it';
        END IF;
        RETURN NEW;
    END
    $$;

CREATE TRIGGER interactions_guard_soft_delete
    BEFORE UPDATE OF deleted_at ON interactions
    FOR EACH ROW EXECUTE FUNCTION ifind_guard_soft_delete();

REVOKE ALL ON FUNCTION ifind_current_user(), ifind_site_role(integer), ifind_site_filter(),
    ifind_readable_sites(), ifind_user_filter(), ifind_allowed(integer, integer[]),
    ifind_login_user(text), ifind_first_global_admin(), ifind_has_users()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_current_user(), ifind_site_role(integer), ifind_site_filter(),
    ifind_readable_sites(), ifind_user_filter(), ifind_allowed(integer, integer[]),
    ifind_login_user(text), ifind_first_global_admin(), ifind_has_users()
    TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- Privileges: exactly what the application uses. No DELETE anywhere (deletes are soft); no
-- change to site_id, created_by or created_at; no password hashes.
-- ---------------------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA public TO ifind_app;
GRANT SELECT ON schema_metadata, schema_migrations TO ifind_app;
GRANT SELECT ON interactions TO ifind_app;
-- interaction_id comes from its identity column, which needs no privilege on the sequence.
GRANT INSERT (site_id, title, type, lead, start_datetime, end_datetime, timezone, location,
              description, notes, created_by)
    ON interactions TO ifind_app;
GRANT UPDATE (title, type, lead, start_datetime, end_datetime, timezone, location, description,
              notes, updated_by, updated_at, version, deleted_at, deleted_by)
    ON interactions TO ifind_app;
GRANT SELECT ON sites, user_site_mapping TO ifind_app;
GRANT SELECT (user_id, username, email, last_login, is_active, is_global_admin, created_at)
    ON users TO ifind_app;
GRANT UPDATE (last_login) ON users TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- Row-level security, enabled and forced (so that the owner too is subject to policies unless
-- it bypasses them).
-- ---------------------------------------------------------------------------------------------

ALTER TABLE interactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interactions FORCE ROW LEVEL SECURITY;
ALTER TABLE user_site_mapping ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_site_mapping FORCE ROW LEVEL SECURITY;
ALTER TABLE sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE sites FORCE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

-- The owner (the role running this migration) keeps every row.
CREATE POLICY ifind_owner_all ON interactions TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY ifind_owner_all ON user_site_mapping TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY ifind_owner_all ON sites TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY ifind_owner_all ON users TO CURRENT_USER USING (true) WITH CHECK (true);

-- Interactions: viewers read, editors create and edit, in their own sites. WITH CHECK holds the
-- new row to the same rule, so a row can never land in (or move to) another site; and a new
-- row's creator is the acting user.
CREATE POLICY app_read ON interactions FOR SELECT TO ifind_app
    USING (ifind_allowed(site_id, (SELECT ifind_site_filter())));
CREATE POLICY app_insert ON interactions FOR INSERT TO ifind_app
    WITH CHECK (ifind_site_role(site_id) IN ('editor', 'admin')
                AND created_by = ifind_current_user());
CREATE POLICY app_update ON interactions FOR UPDATE TO ifind_app
    USING (ifind_site_role(site_id) IN ('editor', 'admin'))
    WITH CHECK (ifind_site_role(site_id) IN ('editor', 'admin'));

-- Sites the user may read.
CREATE POLICY app_read ON sites FOR SELECT TO ifind_app
    USING (ifind_allowed(site_id, (SELECT ifind_site_filter())));

-- Mappings: one's own; a site admin also sees the site's members.
CREATE POLICY app_read ON user_site_mapping FOR SELECT TO ifind_app
    USING (user_id = (SELECT ifind_current_user()) OR ifind_site_role(site_id) = 'admin');

-- Users: oneself, the members of one's sites and the global administrators.
CREATE POLICY app_read ON users FOR SELECT TO ifind_app
    USING (ifind_allowed(user_id, (SELECT ifind_user_filter())));
-- Only one's own row, and (by the column privilege) only last_login.
CREATE POLICY app_update_self ON users FOR UPDATE TO ifind_app
    USING (user_id = (SELECT ifind_current_user()))
    WITH CHECK (user_id = (SELECT ifind_current_user()));

-- ---------------------------------------------------------------------------------------------
-- Indexes under the policies. PostgreSQL evaluates the policy conditions before any condition
-- of the query that is not LEAKPROOF (one that might reveal a row's values through an error or a
-- side effect), and such a condition may not be an index condition. Full-text matching (`@@`),
-- ILIKE and pg_trgm's word similarity (`<%`) are not marked LEAKPROOF, so under the policies the
-- Finder's full-text search would read every row of the site instead of using its GIN index
-- (measured: 1.7 ms -> 106 ms for a rare word on a site of 44,000 rows). Each of the three only
-- compares a row's value with the searcher's own constant and returns a boolean; none raises an
-- error that depends on the row. Marking them LEAKPROOF (in this database only: pg_proc is per
-- database) restores the index plans. Only a superuser may do it; for any other owner the search
-- stays correct but slower, and the notice says what a superuser can run.
-- ---------------------------------------------------------------------------------------------

DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
        ALTER FUNCTION pg_catalog.texticlike(text, text) LEAKPROOF;
        ALTER FUNCTION word_similarity_op(text, text) LEAKPROOF;
    ELSE
        RAISE NOTICE 'ifind: full-text search under row-level security cannot use its index '
            'until a superuser runs, in this database: ALTER FUNCTION '
            'pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF; ALTER FUNCTION '
            'pg_catalog.texticlike(text, text) LEAKPROOF; ALTER FUNCTION '
            'word_similarity_op(text, text) LEAKPROOF;';
    END IF;
END
$$;
