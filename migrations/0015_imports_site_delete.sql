-- ifind schema 1.13.0 (MINOR: a table and a function): every import is recorded, in the same
-- transaction as its rows, with the SHA-256 of its file. So an import whose answer was lost can be looked up
-- (its id was made before it started: committed or not, the table tells), and a file already
-- imported into a site is not imported into it again by mistake (the command refuses unless
-- told `--again`). Like every site-data table, its key includes site_id. And a global
-- administrator can delete a site (see the end).

CREATE TABLE imports (
    site_id      integer NOT NULL REFERENCES sites (site_id),
    import_id    uuid NOT NULL,
    file_sha256  text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    file_name    text NOT NULL
        CHECK (file_name !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    row_count    integer NOT NULL CHECK (row_count >= 0),
    imported_by  integer NOT NULL REFERENCES users (user_id),
    imported_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_imports PRIMARY KEY (site_id, import_id)
);
CREATE INDEX idx_imports_file ON imports (site_id, file_sha256);

REVOKE ALL ON imports FROM PUBLIC;
GRANT SELECT, INSERT ON imports TO ifind_app;

ALTER TABLE imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE imports FORCE ROW LEVEL SECURITY;
-- The owner (the import of `ifind import` on its own connection) works on every row.
CREATE POLICY imports_owner ON imports TO CURRENT_USER
    USING (true) WITH CHECK (true);
-- A person sees and records the imports of the sites they may write to, as themselves.
CREATE POLICY app_read ON imports FOR SELECT TO ifind_app
    USING (ifind_site_role(site_id) IN ('editor', 'admin'));
CREATE POLICY app_insert ON imports FOR INSERT TO ifind_app
    WITH CHECK (ifind_site_role(site_id) IN ('editor', 'admin')
                AND imported_by = ifind_current_user());

-- ---------------------------------------------------------------------------------------------
-- Deleting a site (`ifind site delete`)
-- ---------------------------------------------------------------------------------------------

-- A global administrator (and the owner) deletes site `p_site`: its roles, its import records,
-- and, only when `p_with_interactions`, its interactions (live, deleted and archived; the audit
-- trail records each, as for any delete). Answers the number of interactions the site held
-- (then removed), NULL when the session may not delete sites or there is no such site; a site
-- that holds interactions is not touched unless asked (the answer is then minus that number).
-- For a site an interrupted `ifind seed` left half made, or one added by mistake.
CREATE FUNCTION ifind_delete_site(p_site integer, p_with_interactions boolean) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
        held bigint;
    BEGIN
        IF NOT (ifind_sees_all() OR ifind_is_global_admin()) THEN
            RETURN NULL;
        END IF;
        PERFORM 1 FROM sites s WHERE s.site_id = p_site FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        held := (SELECT count(*) FROM interactions i WHERE i.site_id = p_site)
              + (SELECT count(*) FROM interactions_archive a WHERE a.site_id = p_site);
        IF held > 0 AND NOT p_with_interactions THEN
            RETURN -held;
        END IF;
        DELETE FROM interactions_archive a WHERE a.site_id = p_site;
        DELETE FROM interactions i WHERE i.site_id = p_site;
        DELETE FROM imports m WHERE m.site_id = p_site;
        DELETE FROM user_site_mapping m WHERE m.site_id = p_site;
        DELETE FROM sites s WHERE s.site_id = p_site;
        RETURN held;
    END
    $$;

REVOKE ALL ON FUNCTION ifind_delete_site(integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ifind_delete_site(integer, boolean) TO ifind_app;
