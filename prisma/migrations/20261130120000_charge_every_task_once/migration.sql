-- What a caption charges its caller's day: while it is open, the cent held for it or its tasks, whichever
-- is more; once it has ended, its tasks alone (the hold not spent is given back). One trigger keeps the
-- day's spend equal to that, whatever order a caption's end and the count of its tasks are written in: a
-- task counted after the caption ended (GoAPI's final webhook came before the create's answer) is charged
-- then, and a caption never gives back a cent a task was counted against.
CREATE FUNCTION "caption_charge"(status caption_status, goapi_tasks integer, reserved_cents integer)
  RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status IN ('completed', 'failed') THEN goapi_tasks
      ELSE GREATEST(goapi_tasks, reserved_cents) END
  $$;

CREATE FUNCTION "caption_charge_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE caller_spend
    SET cents = cents + caption_charge(NEW.status, NEW.goapi_tasks, NEW.reserved_cents)
      - caption_charge(OLD.status, OLD.goapi_tasks, OLD.reserved_cents)
    WHERE caller = NEW.caller AND day = (NEW.created_at AT TIME ZONE 'UTC')::date;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_charge_changed" AFTER UPDATE OF "status", "goapi_tasks", "reserved_cents" ON "captions"
  FOR EACH ROW
  WHEN (caption_charge(NEW."status", NEW."goapi_tasks", NEW."reserved_cents")
    <> caption_charge(OLD."status", OLD."goapi_tasks", OLD."reserved_cents"))
  EXECUTE FUNCTION "caption_charge_changed"();

DROP TRIGGER "captions_task_made" ON "captions";
DROP FUNCTION "caption_task_made"();

-- A caption's end no longer gives cents back itself: the trigger above does.
CREATE OR REPLACE FUNCTION "caption_finished"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_leader uuid;
BEGIN
  IF EXISTS (SELECT 1 FROM captions WHERE waits_for = NEW.id) THEN
    IF NEW.status = 'completed' THEN
      UPDATE captions SET status = 'completed', caption = NEW.caption, reused_from = NEW.id,
          waits_for = NULL, updated_at = NEW.updated_at, completed_at = NEW.updated_at,
          next_attempt_at = NULL,
          callback_next_at = CASE WHEN callback_state = 'pending' THEN NEW.updated_at END
        WHERE waits_for = NEW.id AND status = 'queued';
    ELSE
      SELECT id INTO next_leader FROM captions WHERE waits_for = NEW.id AND status = 'queued'
        ORDER BY created_at, item_index, id LIMIT 1;
      UPDATE captions SET waits_for = CASE WHEN id = next_leader THEN NULL ELSE next_leader END,
          next_attempt_at = NEW.updated_at
        WHERE waits_for = NEW.id AND status = 'queued';
    END IF;
  END IF;
  IF NEW.batch_id IS NOT NULL THEN
    UPDATE batches SET open_items = open_items - 1, updated_at = NEW.updated_at,
        completed_at = CASE WHEN open_items = 1 THEN NEW.updated_at END,
        callback_state = CASE WHEN open_items = 1 AND callback_url IS NOT NULL THEN 'pending'::callback_state
          ELSE callback_state END,
        callback_next_at = CASE WHEN open_items = 1 AND callback_url IS NOT NULL THEN NEW.updated_at
          ELSE callback_next_at END
      WHERE id = NEW.batch_id;
  END IF;
  RETURN NULL;
END
$$;
