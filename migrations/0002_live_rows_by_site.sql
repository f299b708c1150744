-- ifind schema 1.0.1 (PATCH: an index). Counting a site's live interactions (the site picker,
-- `ifind site list`) reads only this small index, by an index-only scan, instead of every row.
CREATE INDEX idx_interactions_site_live ON interactions (site_id) WHERE deleted_at IS NULL;
