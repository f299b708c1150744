-- ifind schema 1.6.0 (MINOR: a new nullable column): exactly-once creates. The form gives every
-- new interaction an id of its own (a random UUID made when the form opens, kept in the draft),
-- and the insert skips a row whose id is already stored. A create retried after a lost
-- connection, or after a COMMIT whose answer never arrived, therefore never makes a second
-- record, and the app can look up whether the first one reached the database. Rows made
-- without the form (import, seed, older versions) have none.

ALTER TABLE interactions ADD COLUMN client_id uuid;
-- Led by site_id, like every key of site data, so the table stays distributable by site.
ALTER TABLE interactions ADD CONSTRAINT uq_interactions_client_id UNIQUE (site_id, client_id);

-- The archive keeps the same shape as the live table.
ALTER TABLE interactions_archive ADD COLUMN client_id uuid;

GRANT INSERT (client_id) ON interactions TO ifind_app;
