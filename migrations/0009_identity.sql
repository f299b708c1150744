-- ifind schema 1.7.0 (MINOR: a column, roles, functions and policies): every person connects as
-- themselves.
--
-- Before, every staff machine held the one credential of `ifind_app` and told the database
-- who was acting through the setting `ifind.user_id`, which anyone holding that credential
-- could set to anyone. Now:
-- * each ifind user has a PostgreSQL login role of their own (`users.db_role`, made by
--   `ifind_set_login`, which ifind's `user add` / `user passwd` / `user login` call), a member
--   of the NOLOGIN group role `ifind_app` that holds the table grants. PostgreSQL authenticates
--   it (SCRAM-SHA-256, or whatever pg_hba.conf says: certificates, GSSAPI, LDAP);
-- * the acting user is found from `session_user`, which no `set_config` and no `SET ROLE`
--   changes (ifind_current_user below). The setting `ifind.user_id` is read only when the
--   session itself is `ifind_app`: the trusted delegate of a three-tier deployment (and of
--   ifind's test harness); `ifind_app` is NOLOGIN unless an administrator of the server lets
--   it log in, and ifind never does so on a server it does not own;
-- * who and when (created_by, created_at, updated_by, updated_at, deleted_by, deleted_at,
--   version) are set by a trigger from that identity, never taken from the client;
-- * the audit trail and the access log are written only by the database: SECURITY DEFINER
--   triggers and functions, with no INSERT privilege for anyone else; the audit trail records
--   the session's role (`actor`), so what the owner does is the owner's;
-- * no one but the owner reads a password hash, the access log's lockout counts, or a user by
--   name before logging in;
-- * admin work (sites, users, roles at sites) is done under policies as the person doing it.

DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ifind_app') THEN
        CREATE ROLE ifind_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- The user's PostgreSQL login role (NULL: none yet; `ifind user login NAME` makes one).
ALTER TABLE users ADD COLUMN db_role name NULL;
ALTER TABLE users ADD CONSTRAINT uq_users_db_role UNIQUE (db_role);

-- The audit trail names the database role that made each change (the owner included).
ALTER TABLE audit_log ADD COLUMN actor text NULL;

-- ---------------------------------------------------------------------------------------------
-- Who is acting
-- ---------------------------------------------------------------------------------------------

-- The login role of user `p_username` in this database: the name itself in a database named
-- `ifind`, else `<database>.<name>` (roles belong to the whole server, and one server may hold
-- several ifind databases). ifind's login computes the same name (db::logins::role_name).
CREATE FUNCTION ifind_login_role(p_username text) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN current_database() = 'ifind' THEN p_username
                      ELSE current_database() || '.' || p_username END $$;

-- Whether the session is the owner's: the role that owns ifind's tables (or a member of it).
CREATE FUNCTION ifind_is_owner() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT pg_has_role(session_user,
                             (SELECT c.relowner FROM pg_class c WHERE c.oid = 'users'::regclass),
                             'MEMBER') $$;

-- The acting user: the ifind user whose login role opened this session; for the delegate
-- session `ifind_app` and for the owner's sessions only (the owner may do anything anyway; the
-- audit trail's `actor` still names the owner), the transaction's `ifind.user_id`, which
-- ifind's own CLI never sets on the owner's connection; else NULL. session_user is the role that authenticated: SET ROLE and
-- SECURITY DEFINER functions change current_user, never session_user.
CREATE OR REPLACE FUNCTION ifind_current_user() RETURNS integer
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    BEGIN
        IF session_user = 'ifind_app' OR ifind_is_owner() THEN
            RETURN NULLIF(current_setting('ifind.user_id', true), '')::integer;
        END IF;
        RETURN (SELECT u.user_id FROM users u WHERE u.db_role = session_user);
    END
    $$;

-- The acting user's role at a site: 'admin' for an active global administrator, else the
-- active user's role there, else NULL; NULL at a deactivated site (nobody reads or writes it
-- until it is activated again).
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
                 WHERE u.user_id = ifind_current_user() AND u.is_active
                   AND EXISTS (SELECT 1 FROM sites s WHERE s.site_id = p_site AND s.is_active));
    END
    $$;

-- The sites whose interactions the acting user may read, for policies: NULL for an active
-- global administrator while every site is active (every site), else the readable active
-- sites; none ('{}') without an active acting user.
CREATE FUNCTION ifind_interaction_sites() RETURNS integer[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        sites integer[];
    BEGIN
        sites := ifind_site_filter();
        IF sites IS NULL THEN
            IF NOT EXISTS (SELECT 1 FROM sites s WHERE NOT s.is_active) THEN
                RETURN NULL;
            END IF;
            RETURN ARRAY(SELECT s.site_id FROM sites s WHERE s.is_active ORDER BY 1);
        END IF;
        RETURN ARRAY(SELECT s.site_id FROM sites s
                      WHERE s.site_id = ANY (sites) AND s.is_active ORDER BY 1);
    END
    $$;

-- Whether the acting user is an active global administrator (now also for the owner's own
-- checks in the functions below).
CREATE OR REPLACE FUNCTION ifind_is_global_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT coalesce(
        (SELECT u.is_global_admin FROM users u
          WHERE u.user_id = ifind_current_user() AND u.is_active),
        false)
$$;

-- ---------------------------------------------------------------------------------------------
-- Reading interactions: only active sites the user may read
-- ---------------------------------------------------------------------------------------------

-- ifind_interaction_sites() as a list even for a global administrator (every active site).
CREATE FUNCTION ifind_readable_site_ids() RETURNS integer[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        sites integer[] := ifind_interaction_sites();
    BEGIN
        IF sites IS NULL THEN
            RETURN ARRAY(SELECT s.site_id FROM sites s WHERE s.is_active ORDER BY 1);
        END IF;
        RETURN sites;
    END
    $$;

-- The read policy is a plain `site_id = ANY (list)`, computed once per statement (an InitPlan):
-- a leakproof condition on the column every index leads with, so the planner makes it an index
-- condition beside a person's own leakproof conditions (`site_id =`, a time range, text `=`).
-- Rows of sites one may not read are then never fetched, and `EXPLAIN ANALYZE` has no "Rows
-- Removed by Filter" to count them by (migration 0003's form, a filter after the index, did).
DROP POLICY app_read ON interactions;
CREATE POLICY app_read ON interactions FOR SELECT TO ifind_app
    USING (site_id = ANY ((SELECT ifind_readable_site_ids())::integer[]));
DROP POLICY interactions_archive_read ON interactions_archive;
CREATE POLICY interactions_archive_read ON interactions_archive FOR SELECT TO ifind_app
    USING (site_id = ANY ((SELECT ifind_readable_site_ids())::integer[]));

-- ---------------------------------------------------------------------------------------------
-- Who and when, set by the database
-- ---------------------------------------------------------------------------------------------

-- For an acting user (every session but the owner's): a new row is theirs, now, version 1,
-- not deleted; an update is theirs, now, the next version; a soft delete and a restore are
-- stamped the same way; a row in the trash cannot be edited (restore it first). The owner's
-- own bulk work (import, seed, archive, erase) keeps the values it gives.
CREATE FUNCTION ifind_stamp_interaction() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
DECLARE
    me integer := ifind_current_user();
BEGIN
    IF me IS NULL AND ifind_is_owner() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := me;
        NEW.created_at := now();
        NEW.updated_by := NULL;
        NEW.updated_at := NULL;
        NEW.version := 1;
        NEW.deleted_at := NULL;
        NEW.deleted_by := NULL;
        RETURN NEW;
    END IF;
    NEW.created_by := OLD.created_by;
    NEW.created_at := OLD.created_at;
    NEW.client_id := OLD.client_id;
    NEW.version := OLD.version + 1;
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        NEW.deleted_at := now();
        NEW.deleted_by := me;
        NEW.updated_by := OLD.updated_by;
        NEW.updated_at := OLD.updated_at;
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        NEW.deleted_by := NULL;
        NEW.updated_by := me;
        NEW.updated_at := now();
    ELSIF OLD.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'interaction % is in the trash and cannot be edited', OLD.interaction_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'a site admin can restore it first';
    ELSE
        NEW.deleted_by := NULL;
        NEW.updated_by := me;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER interactions_stamp BEFORE INSERT OR UPDATE ON interactions
    FOR EACH ROW EXECUTE FUNCTION ifind_stamp_interaction();

-- ---------------------------------------------------------------------------------------------
-- The audit trail names the session's role; only the database writes it
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ifind_audit_row() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC'
AS $$
DECLARE
    key_col  text := TG_ARGV[0];
    site_col text := TG_ARGV[1];
    o        jsonb;
    n        jsonb;
    old_c    jsonb;
    new_c    jsonb;
    op       text;
    any_row  jsonb;
    who      text;
BEGIN
    IF current_setting('ifind.bulk_load', true) = 'on'
       AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID),
                       'USAGE') THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        o := to_jsonb(OLD) - 'search_vector';
        IF o ? 'password_hash' THEN o := o || '{"password_hash": "***"}'; END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := to_jsonb(NEW) - 'search_vector';
        IF n ? 'password_hash' THEN n := n || '{"password_hash": "***"}'; END IF;
    END IF;

    IF TG_OP = 'INSERT' THEN
        op := 'insert';
        new_c := n;
    ELSIF TG_OP = 'DELETE' AND current_setting('ifind.archiving', true) = 'on' THEN
        op := 'archive';
    ELSIF TG_OP = 'DELETE' THEN
        op := 'delete';
        old_c := o;
    ELSE
        SELECT jsonb_object_agg(e.key, o -> e.key), jsonb_object_agg(e.key, e.value)
          INTO old_c, new_c
          FROM jsonb_each(n) AS e
         WHERE (o -> e.key) IS DISTINCT FROM e.value;
        IF (to_jsonb(OLD) ->> 'password_hash') IS DISTINCT FROM (to_jsonb(NEW) ->> 'password_hash') THEN
            old_c := coalesce(old_c, '{}') || '{"password_hash": "***"}';
            new_c := coalesce(new_c, '{}') || '{"password_hash": "***"}';
        END IF;
        IF old_c IS NULL THEN
            RETURN NULL;
        END IF;
        IF n ? 'deleted_at' AND (o ->> 'deleted_at') IS NULL AND (n ->> 'deleted_at') IS NOT NULL THEN
            op := 'delete';
        ELSIF n ? 'deleted_at' AND (o ->> 'deleted_at') IS NOT NULL AND (n ->> 'deleted_at') IS NULL THEN
            op := 'restore';
        ELSE
            op := 'update';
        END IF;
    END IF;

    -- The role that authenticated; for the owner also the OS account that ran ifind, which
    -- ifind's owner connection reports in `ifind.os_user` (only the owner's is believed).
    who := session_user::text;
    IF ifind_is_owner() AND coalesce(current_setting('ifind.os_user', true), '') <> '' THEN
        who := who || ' (owner; OS user ' || left(current_setting('ifind.os_user', true), 64) || ')';
    ELSIF ifind_is_owner() THEN
        who := who || ' (owner)';
    END IF;

    any_row := coalesce(n, o);
    INSERT INTO audit_log (site_id, table_name, row_id, operation, user_id, old_values,
                           new_values, actor)
    VALUES (CASE WHEN site_col = '' THEN NULL ELSE (any_row ->> site_col)::integer END,
            TG_TABLE_NAME, (any_row ->> key_col)::integer, op, ifind_current_user(),
            old_c, new_c, who);
    RETURN NULL;
END
$$;

DROP POLICY audit_log_add ON audit_log;
DROP POLICY access_log_add ON access_log;
REVOKE INSERT ON audit_log, access_log FROM ifind_app;
REVOKE USAGE ON SEQUENCE audit_log_id_seq, access_log_id_seq FROM ifind_app;

-- Reading the trail: global administrators every row; site admins their sites' rows; anyone
-- the history of the interactions they may read; one's own changes at sites one may still
-- read (or about no site). Never a row of a site one may not read.
DROP POLICY audit_log_read ON audit_log;
CREATE POLICY audit_log_read ON audit_log FOR SELECT
    USING ((SELECT ifind_is_global_admin())
           OR (site_id IS NOT NULL AND ifind_site_role(site_id) = 'admin')
           OR (site_id IS NOT NULL AND table_name = 'interactions'
               AND ifind_allowed(site_id, (SELECT ifind_interaction_sites())))
           OR (user_id = (SELECT ifind_current_user())
               AND (site_id IS NULL OR ifind_site_role(site_id) IS NOT NULL)));

-- The access log: global administrators read it; anyone their own logins (not their refusals,
-- whose rows say whether a site they may not see exists).
DROP POLICY access_log_read ON access_log;
CREATE POLICY access_log_read ON access_log FOR SELECT
    USING ((SELECT ifind_is_global_admin())
           OR (event = 'login' AND user_id IS NOT NULL
               AND user_id = (SELECT ifind_current_user())));

-- Before a login nobody is known: these read users and the access log by name, for the
-- owner only now (the delegate's app-side login in tests and three-tier servers runs them on
-- the owner's connection).
REVOKE EXECUTE ON FUNCTION ifind_login_user(text), ifind_first_global_admin(),
    ifind_login_failures(text, timestamptz, timestamptz) FROM ifind_app;

-- A successful login, recorded by the database for the session's own user: one row in the
-- access log and last_login; returns the user (none for a role that is no active ifind user).
CREATE FUNCTION ifind_session_start()
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    me integer := ifind_current_user();
    u users;
BEGIN
    SELECT * INTO u FROM users x WHERE x.user_id = me;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO access_log (event, username_as_typed, user_id, success, reason)
    VALUES ('login', u.username, u.user_id, u.is_active,
            CASE WHEN u.is_active THEN 'ok' ELSE 'inactive' END);
    IF NOT u.is_active THEN
        RETURN;
    END IF;
    UPDATE users x SET last_login = now() WHERE x.user_id = me;
    RETURN QUERY SELECT u.user_id, u.username::text, u.email::text, now(), u.is_active,
                        u.is_global_admin;
END
$$;

-- The session's own user, without recording anything (NULL row for the owner).
CREATE FUNCTION ifind_whoami()
    RETURNS TABLE (user_id integer, username text, email text, last_login timestamptz,
                   is_active boolean, is_global_admin boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT u.user_id, u.username::text, u.email::text, u.last_login, u.is_active,
           u.is_global_admin
      FROM users u WHERE u.user_id = ifind_current_user()
$$;

-- A refused cross-site attempt of the session's own user (search, export, save, trash...),
-- recorded by the database: nobody can record one in another's name.
CREATE FUNCTION ifind_log_refusal(p_site integer, p_what text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    me integer := ifind_current_user();
BEGIN
    IF me IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO access_log (event, username_as_typed, user_id, success, reason, site_id)
    VALUES ('refusal', (SELECT u.username FROM users u WHERE u.user_id = me), me, false,
            'refused: site ' || p_site || ' (' || left(regexp_replace(p_what, '[^a-z ]', '', 'g'), 40) || ')',
            p_site);
END
$$;

-- The same for a site the user named but may not see: the database resolves the name (the
-- client learns nothing, whether or not the site exists).
CREATE FUNCTION ifind_log_refusal_named(p_site_name text, p_what text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    me integer := ifind_current_user();
    site integer;
BEGIN
    IF me IS NULL THEN
        RETURN;
    END IF;
    SELECT s.site_id INTO site FROM sites s WHERE s.name = p_site_name;
    INSERT INTO access_log (event, username_as_typed, user_id, success, reason, site_id)
    VALUES ('refusal', (SELECT u.username FROM users u WHERE u.user_id = me), me, false,
            'refused: site ' || coalesce(site::text, 'unknown') || ' ('
                || left(regexp_replace(p_what, '[^a-z ]', '', 'g'), 40) || ')',
            site);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Login roles
-- ---------------------------------------------------------------------------------------------

-- Gives user `p_username` a login role (or a new password for it). `p_verifier` is a
-- SCRAM-SHA-256 verifier computed by the client (never the password itself, so it appears in
-- no log). Allowed for the owner, a global administrator, and the user themselves (their own
-- password). The role is a member of ifind_app and nothing else: no superuser, no CREATEROLE,
-- no BYPASSRLS.
CREATE FUNCTION ifind_set_login(p_username text, p_verifier text) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    u users;
    role_name text;
    marker text;
BEGIN
    SELECT * INTO u FROM users x WHERE x.username = p_username;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no user named %', p_username
            USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT (ifind_is_owner() OR ifind_is_global_admin()
            OR u.user_id IS NOT DISTINCT FROM ifind_current_user()) THEN
        RAISE EXCEPTION 'only a global administrator may set another user''s password'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'not a SCRAM-SHA-256 verifier' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    role_name := coalesce(u.db_role::text, ifind_login_role(u.username));
    marker := 'ifind login of ' || u.username || ' in ' || current_database();
    IF role_name IN ('ifind_app', 'public') OR role_name LIKE 'pg\_%'
       OR (EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role_name)
           AND pg_has_role(role_name, (SELECT c.relowner FROM pg_class c
                                         WHERE c.oid = 'users'::regclass), 'MEMBER')) THEN
        RAISE EXCEPTION 'the user name % is reserved', u.username
            USING ERRCODE = 'reserved_name', HINT = 'choose another user name';
    END IF;
    IF octet_length(role_name) > 63 THEN
        RAISE EXCEPTION 'the login role name % is longer than 63 bytes', role_name
            USING ERRCODE = 'name_too_long', HINT = 'use a shorter user name';
    END IF;
    IF u.db_role IS NULL THEN
        IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role_name) THEN
            -- A role of that name is taken over only when this database made it for a user of
            -- the same name (its comment says so: a user removed and added again, or a database
            -- restored) and it is nothing but a member of ifind_app that no other role is in.
            IF shobj_description((SELECT r.oid FROM pg_roles r WHERE r.rolname = role_name),
                                 'pg_authid') IS DISTINCT FROM marker
               OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = role_name
                            AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb
                                 OR r.rolreplication OR r.rolbypassrls))
               OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                           WHERE r.rolname = role_name)
               OR NOT pg_has_role(role_name, 'ifind_app', 'MEMBER') THEN
                RAISE EXCEPTION 'the database already has a role named % that is not an ifind login', role_name
                    USING ERRCODE = 'duplicate_object',
                          HINT = 'rename or drop that role, or choose another user name';
            END IF;
            EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', role_name, p_verifier);
        ELSE
            EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE '
                           'NOREPLICATION NOBYPASSRLS PASSWORD %L IN ROLE ifind_app',
                           role_name, p_verifier);
            EXECUTE format('COMMENT ON ROLE %I IS %L', role_name, marker);
        END IF;
        UPDATE users x SET db_role = role_name, password_hash = 'postgresql-login'
         WHERE x.user_id = u.user_id;
    ELSE
        EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, p_verifier);
    END IF;
    EXECUTE format('ALTER ROLE %I LOGIN VALID UNTIL %L', role_name,
                   CASE WHEN u.is_active THEN 'infinity' ELSE '-infinity' END);
    RETURN role_name;
END
$$;

-- A deactivated user's role cannot log in; activating lets it log in again. The password is
-- what expires (VALID UNTIL '-infinity'), not the login: the right password of a deactivated
-- user then fails exactly as a wrong one does, after the same delay, instead of a quick
-- "not permitted to log in" that would tell the two apart.
CREATE FUNCTION ifind_sync_login() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF NEW.db_role IS NOT NULL AND NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        EXECUTE format('ALTER ROLE %I LOGIN VALID UNTIL %L', NEW.db_role,
                       CASE WHEN NEW.is_active THEN 'infinity' ELSE '-infinity' END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_sync_login AFTER UPDATE OF is_active ON users
    FOR EACH ROW EXECUTE FUNCTION ifind_sync_login();

-- Users cannot set their own stamps or roles: only these columns, by global administrators.
CREATE FUNCTION ifind_guard_user() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    -- Passwords live in login roles: a row added without a hash gets the marker.
    NEW.password_hash := coalesce(NEW.password_hash, 'postgresql-login');
    IF ifind_is_owner() AND ifind_current_user() IS NULL THEN
        RETURN NEW;
    END IF;
    NEW.db_role := NULL;
    NEW.password_hash := 'postgresql-login';
    NEW.last_login := NULL;
    NEW.created_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER users_guard BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION ifind_guard_user();

-- ---------------------------------------------------------------------------------------------
-- Admin work under policies, as the person doing it
-- ---------------------------------------------------------------------------------------------

-- Sites: global administrators add, rename and (de)activate them.
GRANT INSERT (name, description, is_active), UPDATE (name, description, is_active)
    ON sites TO ifind_app;
CREATE POLICY app_admin_add ON sites FOR INSERT TO ifind_app
    WITH CHECK ((SELECT ifind_is_global_admin()));
CREATE POLICY app_admin_change ON sites FOR UPDATE TO ifind_app
    USING ((SELECT ifind_is_global_admin())) WITH CHECK ((SELECT ifind_is_global_admin()));

-- Roles at sites: a site's admins (and global administrators) manage its members.
GRANT INSERT (user_id, site_id, role), UPDATE (role, assigned_at), DELETE
    ON user_site_mapping TO ifind_app;
CREATE POLICY app_admin_add ON user_site_mapping FOR INSERT TO ifind_app
    WITH CHECK (ifind_site_role(site_id) = 'admin');
CREATE POLICY app_admin_change ON user_site_mapping FOR UPDATE TO ifind_app
    USING (ifind_site_role(site_id) = 'admin') WITH CHECK (ifind_site_role(site_id) = 'admin');
CREATE POLICY app_admin_remove ON user_site_mapping FOR DELETE TO ifind_app
    USING (ifind_site_role(site_id) = 'admin');

-- Users: global administrators add users and change their email, status and admin flag;
-- last_login is the database's (ifind_session_start); passwords live in login roles.
REVOKE UPDATE (last_login) ON users FROM ifind_app;
DROP POLICY app_update_self ON users;
GRANT INSERT (username, email, is_global_admin), UPDATE (email, is_active, is_global_admin)
    ON users TO ifind_app;
CREATE POLICY app_admin_add ON users FOR INSERT TO ifind_app
    WITH CHECK ((SELECT ifind_is_global_admin()));
CREATE POLICY app_admin_change ON users FOR UPDATE TO ifind_app
    USING ((SELECT ifind_is_global_admin())) WITH CHECK ((SELECT ifind_is_global_admin()));

REVOKE ALL ON FUNCTION ifind_readable_site_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_readable_site_ids() TO ifind_app;
REVOKE ALL ON FUNCTION ifind_login_role(text), ifind_is_owner(), ifind_interaction_sites(),
    ifind_session_start(), ifind_whoami(), ifind_log_refusal(integer, text),
    ifind_log_refusal_named(text, text), ifind_set_login(text, text), ifind_stamp_interaction(),
    ifind_sync_login(), ifind_guard_user()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_login_role(text), ifind_is_owner(), ifind_interaction_sites(),
    ifind_session_start(), ifind_whoami(), ifind_log_refusal(integer, text),
    ifind_log_refusal_named(text, text), ifind_set_login(text, text)
    TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- Live updates that say nothing about sites one may not read
-- ---------------------------------------------------------------------------------------------

-- Anyone may LISTEN on any channel, so the payload of `ifind_changes` is no longer the site id
-- but a token of it, keyed by a secret only the owner reads; ifind_site_token gives the token
-- of a site the acting user may read (NULL otherwise), so a listener maps the tokens of its own
-- sites and cannot tell which other site changed.
CREATE TABLE ifind_secret (
    id    integer PRIMARY KEY CHECK (id = 1),
    value text    NOT NULL
);
INSERT INTO ifind_secret VALUES (1, gen_random_uuid()::text || gen_random_uuid()::text);
REVOKE ALL ON ifind_secret FROM PUBLIC;

CREATE FUNCTION ifind_site_token_of(p_site integer) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT md5((SELECT value FROM ifind_secret WHERE id = 1) || ':' || p_site) $$;

CREATE FUNCTION ifind_site_token(p_site integer) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT CASE WHEN ifind_is_owner() OR ifind_site_role(p_site) IS NOT NULL
                   THEN ifind_site_token_of(p_site) END $$;

CREATE OR REPLACE FUNCTION ifind_notify_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
    IF current_setting('ifind.bulk_load', true) = 'on'
       AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID),
                       'USAGE') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ifind_changes', ifind_site_token_of(OLD.site_id));
    ELSE
        PERFORM pg_notify('ifind_changes', ifind_site_token_of(NEW.site_id));
        IF TG_OP = 'UPDATE' AND OLD.site_id <> NEW.site_id THEN
            PERFORM pg_notify('ifind_changes', ifind_site_token_of(OLD.site_id));
        END IF;
    END IF;
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ifind_site_token_of(integer), ifind_site_token(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_site_token(integer) TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- Planner statistics that would show other sites' values
-- ---------------------------------------------------------------------------------------------

-- Text equality is LEAKPROOF in PostgreSQL itself, so a user's EXPLAIN of `lead = 'a name'` on
-- their own site is estimated from the whole table's most common values, which would tell
-- whether the name is common at other sites. No statistics are kept on the text columns (the
-- Finder's own conditions on them are not leakproof, so the planner never used these for a
-- user's search; the search vector keeps its statistics for the owner's entry points).
ALTER TABLE interactions
    ALTER COLUMN title SET STATISTICS 0, ALTER COLUMN type SET STATISTICS 0,
    ALTER COLUMN lead SET STATISTICS 0, ALTER COLUMN location SET STATISTICS 0,
    ALTER COLUMN description SET STATISTICS 0, ALTER COLUMN notes SET STATISTICS 0,
    ALTER COLUMN timezone SET STATISTICS 0;
ALTER TABLE interactions_archive
    ALTER COLUMN title SET STATISTICS 0, ALTER COLUMN type SET STATISTICS 0,
    ALTER COLUMN lead SET STATISTICS 0, ALTER COLUMN location SET STATISTICS 0,
    ALTER COLUMN description SET STATISTICS 0, ALTER COLUMN notes SET STATISTICS 0,
    ALTER COLUMN timezone SET STATISTICS 0;
-- ANALYZE leaves the statistics already gathered for such columns; a superuser removes them.
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        DELETE FROM pg_statistic s
         USING pg_attribute a
         WHERE a.attrelid = s.starelid AND a.attnum = s.staattnum
           AND s.starelid IN ('interactions'::regclass, 'interactions_archive'::regclass)
           AND a.attname IN ('title', 'type', 'lead', 'location', 'description', 'notes',
                             'timezone');
    END IF;
END
$$;
