-- ifind schema 1.3.0 (MINOR: a new table): the archive (design document, section 4.3).
--
-- `ifind archive` moves interactions untouched for two years (retention.archive_after_days)
-- here, in batches: each batch is one statement (DELETE ... RETURNING feeding an INSERT) in one
-- transaction, so a kill at any moment leaves every row in exactly one of the two tables.
-- The Finder can include the archive on request; archived records are read-only: the
-- application role may only read them, under the same site policy as live rows.

CREATE TABLE interactions_archive (
    LIKE interactions INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS,
    archived_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT pk_interactions_archive PRIMARY KEY (interaction_id, site_id),
    CONSTRAINT fk_interactions_archive_site FOREIGN KEY (site_id) REFERENCES sites (site_id)
);

-- The same site-first search and date indexes as the live table.
CREATE INDEX idx_interactions_archive_text ON interactions_archive
    USING gin (site_id, search_vector);
CREATE INDEX idx_interactions_archive_site_start ON interactions_archive
    (site_id, start_datetime);

-- Deleted rows are listed in the Trash and purged by deletion time: a small partial index
-- keeps both from reading the whole table.
CREATE INDEX idx_interactions_deleted ON interactions (site_id, deleted_at)
    WHERE deleted_at IS NOT NULL;

DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ifind_app') THEN
        CREATE ROLE ifind_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END $$;

REVOKE ALL ON interactions_archive FROM PUBLIC;
GRANT SELECT ON interactions_archive TO ifind_app;

ALTER TABLE interactions_archive ENABLE ROW LEVEL SECURITY;
ALTER TABLE interactions_archive FORCE ROW LEVEL SECURITY;
-- The owner (archive, erase, purge) works on every row.
CREATE POLICY interactions_archive_owner ON interactions_archive TO CURRENT_USER
    USING (true) WITH CHECK (true);
-- Everyone else reads the archive of the sites they may read, and writes nothing.
CREATE POLICY interactions_archive_read ON interactions_archive FOR SELECT
    USING (ifind_allowed(site_id, (SELECT ifind_site_filter())));
