-- ifind schema 1.8.0 (MINOR: new constraints): stored text stays data.
--
-- Every text field a person types refuses the characters that act on a terminal instead of
-- being shown by it: control characters (C0 U+0001-U+001F, DEL U+007F, C1 U+0080-U+009F) and
-- the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, "Trojan Source").
-- Multi-line fields (interactions.description and notes, sites.description) keep line feeds,
-- tabs and the carriage return of a CRLF line end (import keeps a file's CRLF line ends); a
-- lone carriage return, which makes a terminal overwrite the line, is refused there too. The
-- marks U+200E/U+200F stay allowed: they only set the direction of neutral characters.
--
-- The application refuses the same characters first, with a message naming the field and the
-- character (src/domain/format.rs, `first_forbidden`); these CHECK constraints are the
-- backstop for every other writer (psql, another client, a bug).
--
-- Rows written before this migration may hold such characters. They are rewritten here, each
-- refused character becoming U+FFFD (the replacement character, one character for one, so no
-- length limit can break), and the constraints are then added valid. We chose this over adding
-- the constraints NOT VALID and leaving the rows as they are: PostgreSQL checks a CHECK
-- constraint on every UPDATE of a row, whatever column changes, and on every INSERT, so a
-- NOT VALID constraint would make exactly those rows impossible to soft-delete, restore, erase
-- (`ifind erase`) or archive (the archive INSERT would fail), and an admin could not remove
-- them. The rewrite goes through the audit trigger, so the trail records each rewritten row as
-- an update by the system (no acting user) with its old value; that old value, and the trail's
-- older entries, still hold the raw characters, which is why every output escapes text anyway.
-- A rewrite bumps the row's version, so a form opened on the old text cannot save over it
-- unnoticed.
--
-- The patterns (PostgreSQL regular expressions; a NULL value passes a CHECK):
--   single-line: [\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]
--   multi-line:  [\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)

-- Live and archived interactions: one pass each over the rows that need it.
UPDATE interactions SET
    title       = regexp_replace(title, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    type        = regexp_replace(type, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    lead        = regexp_replace(lead, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    location    = regexp_replace(location, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    timezone    = regexp_replace(timezone, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    description = regexp_replace(description, '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)', U&'\FFFD', 'g'),
    notes       = regexp_replace(notes, '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)', U&'\FFFD', 'g'),
    version     = version + 1
WHERE title ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR type ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR lead ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR location ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR timezone ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR description ~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)'
   OR notes ~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)';

UPDATE interactions_archive SET
    title       = regexp_replace(title, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    type        = regexp_replace(type, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    lead        = regexp_replace(lead, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    location    = regexp_replace(location, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    timezone    = regexp_replace(timezone, '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]', U&'\FFFD', 'g'),
    description = regexp_replace(description, '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)', U&'\FFFD', 'g'),
    notes       = regexp_replace(notes, '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)', U&'\FFFD', 'g'),
    version     = version + 1
WHERE title ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR type ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR lead ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR location ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR timezone ~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'
   OR description ~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)'
   OR notes ~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)';

-- Users and sites: names are unique, so two names that differ only in a refused character
-- would collide once rewritten; the later one then gets its id appended (`~12`), cut to fit.
DO $$
DECLARE
    single CONSTANT text := '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]';
    multi  CONSTANT text :=
        '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)';
    r record;
    new_name  text;
    new_email text;
BEGIN
    FOR r IN SELECT user_id, username, email FROM users
              WHERE username ~ single OR email ~ single ORDER BY user_id
    LOOP
        new_name := regexp_replace(r.username, single, U&'\FFFD', 'g');
        IF new_name <> r.username
           AND EXISTS (SELECT 1 FROM users WHERE username = new_name AND user_id <> r.user_id) THEN
            new_name := left(new_name, 50 - length('~' || r.user_id)) || '~' || r.user_id;
        END IF;
        new_email := regexp_replace(r.email, single, U&'\FFFD', 'g');
        IF new_email <> r.email
           AND EXISTS (SELECT 1 FROM users WHERE email = new_email AND user_id <> r.user_id) THEN
            new_email := left(new_email, 100 - length('~' || r.user_id)) || '~' || r.user_id;
        END IF;
        UPDATE users SET username = new_name, email = new_email WHERE user_id = r.user_id;
    END LOOP;

    FOR r IN SELECT site_id, name FROM sites WHERE name ~ single ORDER BY site_id
    LOOP
        new_name := regexp_replace(r.name, single, U&'\FFFD', 'g');
        IF EXISTS (SELECT 1 FROM sites WHERE name = new_name AND site_id <> r.site_id) THEN
            new_name := left(new_name, 100 - length('~' || r.site_id)) || '~' || r.site_id;
        END IF;
        UPDATE sites SET name = new_name WHERE site_id = r.site_id;
    END LOOP;
    UPDATE sites SET description = regexp_replace(description, multi, U&'\FFFD', 'g')
     WHERE description ~ multi;
END
$$;

-- The constraints. One ALTER TABLE per table, so PostgreSQL checks the existing rows against
-- all of its new constraints in one scan.
ALTER TABLE interactions
    ADD CONSTRAINT interactions_title_plain_text
        CHECK (title !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_type_plain_text
        CHECK (type !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_lead_plain_text
        CHECK (lead !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_location_plain_text
        CHECK (location !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_timezone_plain_text
        CHECK (timezone !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_description_plain_text
        CHECK (description !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)'),
    ADD CONSTRAINT interactions_notes_plain_text
        CHECK (notes !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)');

ALTER TABLE interactions_archive
    ADD CONSTRAINT interactions_archive_title_plain_text
        CHECK (title !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_archive_type_plain_text
        CHECK (type !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_archive_lead_plain_text
        CHECK (lead !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_archive_location_plain_text
        CHECK (location !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_archive_timezone_plain_text
        CHECK (timezone !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT interactions_archive_description_plain_text
        CHECK (description !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)'),
    ADD CONSTRAINT interactions_archive_notes_plain_text
        CHECK (notes !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)');

ALTER TABLE users
    ADD CONSTRAINT users_username_plain_text
        CHECK (username !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT users_email_plain_text
        CHECK (email !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]');

ALTER TABLE sites
    ADD CONSTRAINT sites_name_plain_text
        CHECK (name !~ '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]'),
    ADD CONSTRAINT sites_description_plain_text
        CHECK (description !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)');
