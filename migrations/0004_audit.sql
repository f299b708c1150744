-- ifind schema 1.2.0 (MINOR: new tables): the audit trail and the access log.
--
-- audit_log: one row per inserted, updated, deleted or restored row of interactions, users,
-- sites and user_site_mapping, written by SECURITY DEFINER triggers: the acting user
-- (ifind_current_user(), NULL for the owner/system), the time and transaction id, and the old
-- and new values of the changed fields only (an insert: every field in new_values; a hard
-- delete: every field in old_values). A soft delete (deleted_at set) is operation 'delete' with
-- new values; a restore (deleted_at cleared) is 'restore'. Password hashes are never copied:
-- a changed password_hash is recorded as "***".
--
-- access_log: every login attempt (name as typed, user if known, success, reason) and every
-- refused cross-site attempt. Written by the application in its own transaction.
--
-- Both are append-only for the application role: INSERT and SELECT (under row-level security),
-- never UPDATE, DELETE or TRUNCATE, and triggers that raise on those for everyone. (An owner
-- task that must rewrite audit values, such as erasure, disables the trigger inside its own
-- transaction: only the table owner can.)

DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ifind_app') THEN
        CREATE ROLE ifind_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END $$;

-- The acting user and their rights come from migration 0003 (ifind_current_user,
-- ifind_site_role, ifind_site_filter, ifind_allowed).

-- Whether the acting user is an active global administrator.
CREATE FUNCTION ifind_is_global_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT coalesce(
        (SELECT u.is_global_admin FROM users u
          WHERE u.user_id = ifind_current_user() AND u.is_active),
        false)
$$;

-- ---------------------------------------------------------------------------------------------
-- The audit trail
-- ---------------------------------------------------------------------------------------------

CREATE TABLE audit_log (
    id          bigserial   NOT NULL,
    -- The site of the row (NULL for rows about users, which belong to no site).
    site_id     integer     NULL,
    table_name  text        NOT NULL,
    row_id      integer     NOT NULL,
    operation   text        NOT NULL,
    -- The acting user; NULL for the owner/system.
    user_id     integer     NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    txid        bigint      NOT NULL DEFAULT txid_current(),
    old_values  jsonb       NULL,
    new_values  jsonb       NULL,
    CONSTRAINT pk_audit_log PRIMARY KEY (id),
    CONSTRAINT audit_log_table_known
        CHECK (table_name IN ('interactions', 'users', 'sites', 'user_site_mapping')),
    CONSTRAINT audit_log_operation_known
        CHECK (operation IN ('insert', 'update', 'delete', 'restore', 'archive'))
);
-- `ifind audit --interaction ID` and the detail pane's History: one row's trail, site first.
CREATE INDEX idx_audit_log_row ON audit_log (site_id, table_name, row_id, id);
-- `ifind audit --user NAME`: what a user did, in order.
CREATE INDEX idx_audit_log_user ON audit_log (user_id, id);

-- Writes the audit row for one changed row. Arguments: the key column, then the site column
-- ('' for a table without one). Times are written in UTC whatever the writer's session uses.
CREATE FUNCTION ifind_audit_row() RETURNS trigger
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
BEGIN
    -- `ifind seed` fills a database with made-up rows: nobody's change to record. Only the
    -- table's owner can switch the trail off this way (the application role cannot).
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
        -- `ifind archive` moving the row to interactions_archive: it lives on there whole.
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
            RETURN NULL; -- nothing changed
        END IF;
        IF n ? 'deleted_at' AND (o ->> 'deleted_at') IS NULL AND (n ->> 'deleted_at') IS NOT NULL THEN
            op := 'delete';
        ELSIF n ? 'deleted_at' AND (o ->> 'deleted_at') IS NOT NULL AND (n ->> 'deleted_at') IS NULL THEN
            op := 'restore';
        ELSE
            op := 'update';
        END IF;
    END IF;

    any_row := coalesce(n, o);
    INSERT INTO audit_log (site_id, table_name, row_id, operation, user_id, old_values, new_values)
    VALUES (CASE WHEN site_col = '' THEN NULL ELSE (any_row ->> site_col)::integer END,
            TG_TABLE_NAME, (any_row ->> key_col)::integer, op, ifind_current_user(),
            old_c, new_c);
    RETURN NULL;
END
$$;

CREATE TRIGGER interactions_audit AFTER INSERT OR UPDATE OR DELETE ON interactions
    FOR EACH ROW EXECUTE FUNCTION ifind_audit_row('interaction_id', 'site_id');
CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION ifind_audit_row('user_id', '');
CREATE TRIGGER sites_audit AFTER INSERT OR UPDATE OR DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION ifind_audit_row('site_id', 'site_id');
CREATE TRIGGER user_site_mapping_audit AFTER INSERT OR UPDATE OR DELETE ON user_site_mapping
    FOR EACH ROW EXECUTE FUNCTION ifind_audit_row('mapping_id', 'site_id');

-- ---------------------------------------------------------------------------------------------
-- The access log
-- ---------------------------------------------------------------------------------------------

CREATE TABLE access_log (
    id                bigserial   NOT NULL,
    at                timestamptz NOT NULL DEFAULT now(),
    -- 'login' (an attempt to log in) or 'refusal' (a refused cross-site attempt).
    event             text        NOT NULL,
    -- The name as typed at the login (never the password); the user's name for a refusal.
    username_as_typed text        NULL,
    user_id           integer     NULL,
    success           boolean     NOT NULL,
    -- 'ok', 'invalid' (wrong password), 'unknown' (no such user), 'inactive', 'locked',
    -- 'refused: site N (what)'.
    reason            text        NOT NULL,
    site_id           integer     NULL,
    CONSTRAINT pk_access_log PRIMARY KEY (id),
    CONSTRAINT access_log_event_known CHECK (event IN ('login', 'refusal'))
);
-- The lockout: a name's recent attempts.
CREATE INDEX idx_access_log_name ON access_log (username_as_typed, at);
CREATE INDEX idx_access_log_user ON access_log (user_id, at);

-- The lockout's count for one name as typed: failed login attempts (not counting those refused
-- as locked) after `p_since`, up to `p_until`, and after the name's last successful login; and
-- the time of the latest. SECURITY DEFINER: the application may not read the access log.
CREATE FUNCTION ifind_login_failures(p_username text, p_since timestamptz, p_until timestamptz)
    RETURNS TABLE (failures bigint, last_failure timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT count(*), max(a.at)
      FROM access_log a
     WHERE a.username_as_typed = p_username
       AND a.event = 'login' AND NOT a.success AND a.reason <> 'locked'
       AND a.at > p_since AND a.at <= p_until
       AND a.at > coalesce((SELECT max(s.at) FROM access_log s
                             WHERE s.username_as_typed = p_username
                               AND s.event = 'login' AND s.success AND s.at <= p_until),
                           '-infinity')
$$;

-- ---------------------------------------------------------------------------------------------
-- Append-only, for everyone: triggers that raise, and privileges
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION ifind_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: its rows cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit and access records are kept as written.';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ifind_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION ifind_append_only();
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION ifind_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION ifind_append_only();

REVOKE ALL ON audit_log, access_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE audit_log_id_seq, access_log_id_seq FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log, access_log FROM ifind_app;
GRANT SELECT, INSERT ON audit_log, access_log TO ifind_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq, access_log_id_seq TO ifind_app;

REVOKE ALL ON FUNCTION ifind_audit_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION ifind_login_failures(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_login_failures(text, timestamptz, timestamptz) TO ifind_app;
REVOKE ALL ON FUNCTION ifind_is_global_admin() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_is_global_admin() TO ifind_app;

-- ---------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
ALTER TABLE access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log FORCE ROW LEVEL SECURITY;

-- The owner (whoever runs this migration: admin commands, and the SECURITY DEFINER triggers
-- and functions above) reads and writes everything.
CREATE POLICY audit_log_owner ON audit_log TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY access_log_owner ON access_log TO CURRENT_USER USING (true) WITH CHECK (true);

-- Others read the audit rows of sites where they are admin (global admins: every row), the rows
-- of their own changes, and the history of the interactions of every site they may read (the
-- detail pane's History shows who changed a record they can see).
CREATE POLICY audit_log_read ON audit_log FOR SELECT
    USING (ifind_is_global_admin()
           OR user_id = ifind_current_user()
           OR (site_id IS NOT NULL AND ifind_site_role(site_id) = 'admin')
           OR (table_name = 'interactions'
               AND ifind_allowed(site_id, (SELECT ifind_site_filter()))));
-- Others add rows only in their own name.
CREATE POLICY audit_log_add ON audit_log FOR INSERT
    WITH CHECK (user_id IS NOT DISTINCT FROM ifind_current_user());

-- Only global administrators read the access log; anyone may add to it (a login attempt comes
-- before anyone is known).
CREATE POLICY access_log_read ON access_log FOR SELECT USING (ifind_is_global_admin());
CREATE POLICY access_log_add ON access_log FOR INSERT WITH CHECK (true);
