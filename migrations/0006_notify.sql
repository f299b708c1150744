-- ifind schema 1.4.0 (MINOR: a trigger): live updates. Every change of an interaction signals
-- its site on channel `ifind_changes`, so that open Finders on that site refresh within a moment
-- without a keystroke. The payload is only the site id (no content); PostgreSQL delivers one
-- notification per site per transaction however many rows it touched. `ifind seed` (the owner's
-- bulk load of made-up rows) skips it, as it skips the audit trail.

CREATE FUNCTION ifind_notify_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp
AS $$
BEGIN
    IF current_setting('ifind.bulk_load', true) = 'on'
       AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID),
                       'USAGE') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ifind_changes', OLD.site_id::text);
    ELSE
        PERFORM pg_notify('ifind_changes', NEW.site_id::text);
        IF TG_OP = 'UPDATE' AND OLD.site_id <> NEW.site_id THEN
            PERFORM pg_notify('ifind_changes', OLD.site_id::text);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER interactions_notify AFTER INSERT OR UPDATE OR DELETE ON interactions
    FOR EACH ROW EXECUTE FUNCTION ifind_notify_change();
