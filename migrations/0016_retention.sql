-- ifind schema 1.14.0 (MINOR: columns, a table, indexes, a changed function): retention as the
-- design document sets it (§6.1, §6.4), run by the owner with `ifind retention`.
--
-- * The audit trail and the access log stay append-only for everyone, except for the owner's
--   retention, which says so for its own transaction (`SET LOCAL ifind.retention = 'on'`, honoured
--   only for a session whose user may act as the table's owner, as ifind.bulk_load is): it
--   replaces the person in rows older than a year by a stable pseudonym (anonymised_at records
--   when) and removes rows past their keep.
-- * Every run of a rule is recorded in retention_log (what, up to when, how many rows), which
--   `ifind health` reads: when retention last ran, and what is overdue.
-- * Indexes on the ages the rules look at.

ALTER TABLE audit_log ADD COLUMN anonymised_at timestamptz NULL;
ALTER TABLE access_log ADD COLUMN anonymised_at timestamptz NULL;

CREATE INDEX idx_audit_log_at ON audit_log (at);
CREATE INDEX idx_access_log_at ON access_log (at);
CREATE INDEX idx_interactions_archive_archived_at ON interactions_archive (archived_at);

CREATE OR REPLACE FUNCTION ifind_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND current_setting('ifind.retention', true) = 'on'
       AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID),
                       'USAGE') THEN
        IF TG_OP = 'UPDATE' THEN
            RETURN NEW;
        END IF;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: its rows cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit and access records are kept as written.';
END
$$;

CREATE TABLE retention_log (
    id        bigserial   NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    -- Which rule: 'trash', 'archive', 'anonymise activity', 'access log', 'audit data',
    -- 'audit admin', 'schema changes'.
    rule      text        NOT NULL,
    -- Rows older than this were taken.
    cutoff    timestamptz NOT NULL,
    affected  bigint      NOT NULL CHECK (affected >= 0),
    run_by    text        NOT NULL DEFAULT session_user,
    CONSTRAINT pk_retention_log PRIMARY KEY (id)
);
REVOKE ALL ON retention_log FROM PUBLIC;

-- A stable pseudonym for a person (`user:ID`) or a name (`name:text`), keyed by the database's
-- secret: the same person always gets the same one, so counts by person still add up, and it
-- cannot be turned back into the name without the secret.
CREATE FUNCTION ifind_pseudonym(p_key text) RETURNS text
    LANGUAGE sql STABLE SET search_path = public, pg_temp
AS $$ SELECT 'person-' || left(md5((SELECT value FROM ifind_secret WHERE id = 1)
                                    || ':pseudonym:' || p_key), 12) $$;
REVOKE ALL ON FUNCTION ifind_pseudonym(text) FROM PUBLIC;
