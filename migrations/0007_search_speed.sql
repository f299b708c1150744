-- ifind schema 1.5.0 (MINOR: an index and planner statistics): what the Finder benchmark showed
-- the planner lacked at a million rows (BENCHMARKS.md, "Where the time goes").
--
-- `type:` compares lower(type), which no index served and which the planner estimated at a
-- default selectivity; a site's live rows by lower-case type, newest last, let a `type:` search
-- walk the matches in date order and stop after a page.
CREATE INDEX idx_interactions_type_ci
    ON interactions USING btree (site_id, lower(type), start_datetime)
    WHERE deleted_at IS NULL;

-- `from:`/`to:` compare each interaction's local calendar day; without statistics on that
-- expression a month was estimated at 38 rows where 6,956 matched, and the planner sorted the
-- whole month instead of walking the date index.
CREATE STATISTICS ifind_interactions_local_day
    ON ((start_datetime AT TIME ZONE timezone)::date) FROM interactions;

ANALYZE interactions;
