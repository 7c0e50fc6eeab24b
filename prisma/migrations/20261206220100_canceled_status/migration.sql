-- A caption its caller canceled before GoAPI accepted it: final, like completed and failed, and never sent.
ALTER TYPE "caption_status" ADD VALUE 'canceled';

-- The new value cannot be used as a caption_status in the transaction that adds it, so the statements
-- below compare the status as text.

-- A canceled caption charges only its tasks (none: it never reached GoAPI): its hold is given back.
CREATE OR REPLACE FUNCTION "caption_charge"(status caption_status, goapi_tasks integer, reserved_cents integer)
  RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status::text IN ('completed', 'failed', 'canceled') THEN goapi_tasks
      ELSE GREATEST(goapi_tasks, reserved_cents) END
  $$;

-- A canceled caption ends like a failed one: its batch has one open item less, and the captions of the
-- same image that waited for it choose another to send.
DROP TRIGGER "captions_finished" ON "captions";
CREATE TRIGGER "captions_finished" AFTER UPDATE OF "status" ON "captions" FOR EACH ROW
  WHEN (OLD."status"::text IN ('queued', 'pending', 'processing')
    AND NEW."status"::text IN ('completed', 'failed', 'canceled'))
  EXECUTE FUNCTION "caption_finished"();
