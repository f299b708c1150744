-- ifind schema 1.11.0 (MINOR: privileges and functions): users, sites and roles at sites are
-- read only through functions, so that no one's own query meets a row they may not see.
--
-- Until now `ifind_app` read `users`, `sites` and `user_site_mapping` directly, under read
-- policies that are filters (`ifind_allowed(...)`, `user_id = me OR ifind_site_role(site_id) =
-- 'admin'`). PostgreSQL evaluates a person's own LEAKPROOF conditions (integer and text `=`)
-- before such a policy and makes them index conditions, so as a viewer at site A
--   EXPLAIN ANALYZE SELECT * FROM sites WHERE name = 'Secret site'
-- answered "Rows Removed by Filter: 1" when that site existed, and the same worked for an email
-- (`users.email`), for the members of another site (`user_site_mapping.site_id`, index
-- idx_user_site_site) and for the sites of another user (`user_site_mapping.user_id`).
--
-- Now `ifind_app` has no SELECT on the three tables at all (its statements on them are refused
-- with "permission denied", whatever the values). What it reads comes from SECURITY DEFINER
-- functions below, which apply the rules the read policies express (the policies stay, and
-- keep saying what each person may see):
-- * sites: every site for the owner and an active global administrator; the sites one has a
--   role at (active or not) for anyone else (ifind_site_filter);
-- * users: everyone for the owner and an active global administrator; oneself, the members of
--   one's sites and the global administrators for anyone else (ifind_user_filter);
-- * roles at sites: every role for the owner; one's own roles, and the roles at the active
--   sites one administers (every active site for a global administrator), for anyone else.
-- A function's result is all a person's own conditions can be applied to: EXPLAIN shows the
-- function's rows, never a hidden one. The functions are SECURITY DEFINER with a fixed
-- search_path, which PostgreSQL never inlines into the caller's statement (all but
-- ifind_username are PL/pgSQL besides); EXECUTE is for ifind_app only.
--
-- User names are public: each user with a login is a role that anyone connected sees in
-- pg_roles (migration 0009). ifind_username(id) names any user, so that "created by" and
-- "deleted by" show a name also for someone who has left the site.
--
-- Writes: adding a site, a user or a role at a site stays an INSERT as the person, under the
-- policies (an INSERT without RETURNING needs no SELECT privilege). Changing or removing a row
-- needs SELECT on the columns of its WHERE clause, and an UPDATE or DELETE whose policy is a
-- per-row filter would count hidden rows again (EXPLAIN ANALYZE UPDATE user_site_mapping SET
-- role = role ... reported the rows it skipped); so `ifind_app` loses UPDATE and DELETE on the
-- three tables, and (de)activating sites and users, giving a role (or changing it) and taking
-- it away go through functions that check exactly what the policy of that write checks, as the
-- same functions the policies call (ifind_is_global_admin, ifind_site_role), and answer as the
-- write did: false for nothing changed, the same 42501 error for a refused role.
--
-- Sessions that bypass the policies (the owner, a superuser, a BYPASSRLS role) see and change
-- every row through the functions too, as they did through the tables.

-- `ifind_sees_all()` (whether the session bypasses the policies) is migration 0012's.

-- ---------------------------------------------------------------------------------------------
-- Sites
-- ---------------------------------------------------------------------------------------------

-- The sites the session may read (the rule of the read policy on sites), by name.
CREATE FUNCTION ifind_my_sites()
    RETURNS TABLE (site_id integer, name text, description text, is_active boolean)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        allowed integer[];
    BEGIN
        IF NOT ifind_sees_all() THEN
            allowed := ifind_site_filter();
            IF allowed IS NOT NULL THEN
                RETURN QUERY
                    SELECT s.site_id, s.name::text, s.description, s.is_active
                      FROM sites s WHERE s.site_id = ANY (allowed) ORDER BY s.name;
                RETURN;
            END IF;
        END IF;
        RETURN QUERY
            SELECT s.site_id, s.name::text, s.description, s.is_active
              FROM sites s ORDER BY s.name;
    END
    $$;

-- The site named `p_name` if the session may read it; no row otherwise (whether or not a site
-- has that name).
CREATE FUNCTION ifind_site_by_name(p_name text)
    RETURNS TABLE (site_id integer, name text, description text, is_active boolean)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        s sites;
    BEGIN
        SELECT * INTO s FROM sites x WHERE x.name = p_name;
        IF NOT FOUND
           OR NOT (ifind_sees_all() OR ifind_allowed(s.site_id, ifind_site_filter())) THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT s.site_id, s.name::text, s.description, s.is_active;
    END
    $$;

-- The name of site `p_site` if the session may read it; NULL otherwise (whether or not the site
-- exists). For lists that name the site of each row (the audit trail).
CREATE FUNCTION ifind_site_name(p_site integer) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        IF NOT (ifind_sees_all() OR ifind_allowed(p_site, ifind_site_filter())) THEN
            RETURN NULL;
        END IF;
        RETURN (SELECT s.name::text FROM sites s WHERE s.site_id = p_site);
    END
    $$;

-- The live-update tokens (migration 0009) of the sites whose changes the session may follow:
-- the active sites it may read (every site for the owner).
CREATE FUNCTION ifind_site_tokens()
    RETURNS TABLE (site_id integer, token text)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        IF ifind_is_owner() THEN
            RETURN QUERY SELECT s.site_id, ifind_site_token_of(s.site_id) FROM sites s;
            RETURN;
        END IF;
        RETURN QUERY
            SELECT s.site_id, ifind_site_token_of(s.site_id)
              FROM sites s WHERE s.site_id = ANY (ifind_readable_site_ids());
    END
    $$;

-- A global administrator (and the owner) activates or deactivates a site: the check of the
-- update policy on sites. True when the site was changed; false when it does not exist or the
-- session may not change it (the answer of an UPDATE that found no row).
CREATE FUNCTION ifind_set_site_active(p_site integer, p_active boolean) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF NOT (ifind_sees_all() OR ifind_is_global_admin()) THEN
            RETURN false;
        END IF;
        UPDATE sites s SET is_active = p_active WHERE s.site_id = p_site;
        RETURN FOUND;
    END
    $$;

-- ---------------------------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------------------------

-- The name of user `p_user` (NULL for no such user). Names are public (see above). Called for
-- every row of a page of the Finder (created by, updated by), so it is the cheapest kind of
-- function: SQL (a SECURITY DEFINER function with a SET clause is never inlined), about 5 us a
-- call also under the Finder's plan_cache_mode = force_custom_plan, where PL/pgSQL without
-- its own plan_cache_mode took 25 us (measured: 20,000 calls, 2 loaded vCPUs).
CREATE FUNCTION ifind_username(p_user integer) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT u.username::text FROM users u WHERE u.user_id = p_user $$;

-- The users the session may see (the rule of the read policy on users), by name. Never the
-- password hash or the login role.
CREATE FUNCTION ifind_users()
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        allowed integer[];
    BEGIN
        IF NOT ifind_sees_all() THEN
            allowed := ifind_user_filter();
            IF allowed IS NOT NULL THEN
                RETURN QUERY
                    SELECT u.user_id, u.username::text, u.email::text, u.last_login,
                           u.is_active, u.is_global_admin
                      FROM users u WHERE u.user_id = ANY (allowed) ORDER BY u.username;
                RETURN;
            END IF;
        END IF;
        RETURN QUERY
            SELECT u.user_id, u.username::text, u.email::text, u.last_login, u.is_active,
                   u.is_global_admin
              FROM users u ORDER BY u.username;
    END
    $$;

-- User `p_user` if the session may see them; no row otherwise.
CREATE FUNCTION ifind_user_by_id(p_user integer)
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        u users;
    BEGIN
        SELECT * INTO u FROM users x WHERE x.user_id = p_user;
        IF NOT FOUND
           OR NOT (ifind_sees_all() OR ifind_allowed(u.user_id, ifind_user_filter())) THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT u.user_id, u.username::text, u.email::text, u.last_login,
                            u.is_active, u.is_global_admin;
    END
    $$;

-- The user named `p_name` if the session may see them; no row otherwise.
CREATE FUNCTION ifind_user_by_name(p_name text)
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        u users;
    BEGIN
        SELECT * INTO u FROM users x WHERE x.username = p_name;
        IF NOT FOUND
           OR NOT (ifind_sees_all() OR ifind_allowed(u.user_id, ifind_user_filter())) THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT u.user_id, u.username::text, u.email::text, u.last_login,
                            u.is_active, u.is_global_admin;
    END
    $$;

-- A global administrator (and the owner) activates or deactivates a user: the check of the
-- update policy on users. True when the user was changed; false when there is no such user or
-- the session may not change them. (Deactivating expires the login: trigger users_sync_login.)
CREATE FUNCTION ifind_set_user_active(p_user integer, p_active boolean) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF NOT (ifind_sees_all() OR ifind_is_global_admin()) THEN
            RETURN false;
        END IF;
        UPDATE users u SET is_active = p_active WHERE u.user_id = p_user;
        RETURN FOUND;
    END
    $$;

-- ---------------------------------------------------------------------------------------------
-- Roles at sites
-- ---------------------------------------------------------------------------------------------

-- The roles at sites the session may see (the rule of the read policy on user_site_mapping:
-- one's own, and those of the sites where `ifind_site_role` is 'admin'), only user `p_user`'s
-- when given.
CREATE FUNCTION ifind_mappings(p_user integer DEFAULT NULL)
    RETURNS TABLE (mapping_id integer, user_id integer, site_id integer, role text,
                   assigned_at timestamptz)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        me integer;
        admin_of integer[];
    BEGIN
        IF ifind_sees_all() THEN
            IF p_user IS NULL THEN
                RETURN QUERY SELECT m.mapping_id, m.user_id, m.site_id, m.role::text,
                                    m.assigned_at
                               FROM user_site_mapping m;
            ELSE
                RETURN QUERY SELECT m.mapping_id, m.user_id, m.site_id, m.role::text,
                                    m.assigned_at
                               FROM user_site_mapping m WHERE m.user_id = p_user;
            END IF;
            RETURN;
        END IF;
        me := ifind_current_user();
        IF me IS NULL THEN
            RETURN;
        END IF;
        -- The sites where ifind_site_role is 'admin': every active site for an active global
        -- administrator, else the active sites of one's own admin roles (while active).
        IF ifind_is_global_admin() THEN
            admin_of := ARRAY(SELECT s.site_id FROM sites s WHERE s.is_active);
        ELSE
            admin_of := ARRAY(SELECT m.site_id FROM user_site_mapping m
                               WHERE m.user_id = me AND m.role = 'admin'
                                 AND ifind_site_role(m.site_id) = 'admin');
        END IF;
        IF p_user IS NULL THEN
            RETURN QUERY SELECT m.mapping_id, m.user_id, m.site_id, m.role::text, m.assigned_at
                           FROM user_site_mapping m
                          WHERE m.user_id = me OR m.site_id = ANY (admin_of);
        ELSE
            RETURN QUERY SELECT m.mapping_id, m.user_id, m.site_id, m.role::text, m.assigned_at
                           FROM user_site_mapping m
                          WHERE m.user_id = p_user
                            AND (m.user_id = me OR m.site_id = ANY (admin_of));
        END IF;
    END
    $$;

-- Gives user `p_user` role `p_role` at site `p_site`, replacing an earlier role there: for the
-- site's admins and global administrators (the check of the insert and update policies on
-- user_site_mapping), refused with the error those policies raise otherwise.
CREATE FUNCTION ifind_grant_role(p_user integer, p_site integer, p_role text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF NOT (ifind_sees_all() OR ifind_site_role(p_site) IS NOT DISTINCT FROM 'admin') THEN
            RAISE EXCEPTION 'new row violates row-level security policy for table "user_site_mapping"'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (p_user, p_site, p_role)
            ON CONFLICT (user_id, site_id) DO UPDATE
            SET role = EXCLUDED.role, assigned_at = CURRENT_TIMESTAMP;
    END
    $$;

-- Takes away user `p_user`'s role at site `p_site`: for the site's admins and global
-- administrators (the check of the delete policy). True when a role was removed; false when
-- there was none or the session may not remove it (the answer of a DELETE that found no row).
CREATE FUNCTION ifind_revoke_role(p_user integer, p_site integer) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF NOT (ifind_sees_all() OR ifind_site_role(p_site) IS NOT DISTINCT FROM 'admin') THEN
            RETURN false;
        END IF;
        DELETE FROM user_site_mapping m WHERE m.user_id = p_user AND m.site_id = p_site;
        RETURN FOUND;
    END
    $$;

-- ---------------------------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------------------------

-- No reads (REVOKE on the table takes the column grants of users with it), no updates or
-- deletes; INSERT (the columns granted by migration 0009) stays, under the insert policies.
REVOKE SELECT, UPDATE, DELETE ON users, sites, user_site_mapping FROM ifind_app;

REVOKE ALL ON FUNCTION ifind_my_sites(), ifind_site_by_name(text),
    ifind_site_name(integer), ifind_site_tokens(), ifind_set_site_active(integer, boolean),
    ifind_username(integer), ifind_users(), ifind_user_by_id(integer), ifind_user_by_name(text),
    ifind_set_user_active(integer, boolean), ifind_mappings(integer),
    ifind_grant_role(integer, integer, text), ifind_revoke_role(integer, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_my_sites(), ifind_site_by_name(text), ifind_site_name(integer),
    ifind_site_tokens(), ifind_set_site_active(integer, boolean), ifind_username(integer),
    ifind_users(), ifind_user_by_id(integer), ifind_user_by_name(text),
    ifind_set_user_active(integer, boolean), ifind_mappings(integer),
    ifind_grant_role(integer, integer, text), ifind_revoke_role(integer, integer)
    TO ifind_app;
