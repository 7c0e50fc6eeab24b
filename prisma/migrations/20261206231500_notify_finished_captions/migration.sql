-- A caption that reaches a final status is announced on the channel "caption_finished", its id the
-- payload: a request waiting for it (POST /captions with Prefer: wait) may be held by another replica
-- than the one that finishes it. The notice leaves at commit, and only if the transaction commits.
CREATE FUNCTION "caption_finished_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('caption_finished', NEW.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_finished_notify" AFTER UPDATE OF "status" ON "captions" FOR EACH ROW
  WHEN (OLD."status"::text IN ('queued', 'pending', 'processing')
    AND NEW."status"::text IN ('completed', 'failed', 'canceled'))
  EXECUTE FUNCTION "caption_finished_notify"();
