-- What GET /usage counted of captions no longer in the database (erased by their caller, or pruned after
-- RETENTION_DAYS), per caller and UTC day of creation: deleting a caption does not change what was spent.
CREATE TABLE "erased_usage" (
    "caller" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "captions" INTEGER NOT NULL DEFAULT 0,
    "reused" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "goapi_tasks" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "erased_usage_pkey" PRIMARY KEY ("caller","day")
);

-- Finished captions by when they finished: what the retention sweep deletes, oldest first.
CREATE INDEX "captions_completed_at_idx" ON "captions"("completed_at") WHERE "completed_at" IS NOT NULL;
-- Completed batches likewise.
CREATE INDEX "batches_completed_at_idx" ON "batches"("completed_at") WHERE "completed_at" IS NOT NULL;

-- Every statement that deletes captions folds them into erased_usage, in one row per caller and day.
CREATE FUNCTION "captions_erased_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO erased_usage AS e (caller, day, captions, reused, failed, goapi_tasks)
    SELECT caller, (created_at AT TIME ZONE 'UTC')::date, count(*), count(reused_from),
        count(*) FILTER (WHERE status = 'failed'), coalesce(sum(goapi_tasks), 0)
      FROM gone GROUP BY 1, 2
    ON CONFLICT (caller, day) DO UPDATE SET captions = e.captions + EXCLUDED.captions,
      reused = e.reused + EXCLUDED.reused, failed = e.failed + EXCLUDED.failed,
      goapi_tasks = e.goapi_tasks + EXCLUDED.goapi_tasks;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_erased_usage" AFTER DELETE ON "captions"
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION "captions_erased_usage"();

-- A caption erased before it finished (only its caller erases open captions; the sweep never does):
-- * the cents held for it and not spent on a task are given back, unless GoAPI may have it (a create
--   in flight or with no clear answer, or accepted): then GoAPI bills it, and the hold stays spent,
-- * the captions of the same image waiting for it go on without it (the earliest is sent itself),
-- * its batch, when the batch itself stays, has one item less (and completes when none is left open);
--   a finished item erased alone is taken off its batch's total by the statement that erases it.
CREATE FUNCTION "caption_erased_open"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_leader uuid;
  now_at timestamptz := clock_timestamp();
BEGIN
  IF OLD.submit_state IN ('not_sent', 'refused') AND OLD.reserved_cents > OLD.goapi_tasks THEN
    UPDATE caller_spend SET cents = cents - (OLD.reserved_cents - OLD.goapi_tasks)
      WHERE caller = OLD.caller AND day = (OLD.created_at AT TIME ZONE 'UTC')::date;
  END IF;
  SELECT id INTO next_leader FROM captions WHERE waits_for = OLD.id AND status = 'queued'
    ORDER BY created_at, item_index, id LIMIT 1;
  IF next_leader IS NOT NULL THEN
    UPDATE captions SET waits_for = CASE WHEN id = next_leader THEN NULL ELSE next_leader END,
        next_attempt_at = now_at
      WHERE waits_for = OLD.id AND status = 'queued';
  END IF;
  IF OLD.batch_id IS NOT NULL THEN
    UPDATE batches SET total = total - 1, open_items = open_items - 1, updated_at = now_at,
        completed_at = CASE WHEN open_items = 1 THEN now_at END,
        callback_state = CASE WHEN open_items = 1 AND callback_url IS NOT NULL THEN 'pending'::callback_state
          ELSE callback_state END,
        callback_next_at = CASE WHEN open_items = 1 AND callback_url IS NOT NULL THEN now_at
          ELSE callback_next_at END
      WHERE id = OLD.batch_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_erased_open" AFTER DELETE ON "captions" FOR EACH ROW
  WHEN (OLD."status" IN ('queued', 'pending', 'processing'))
  EXECUTE FUNCTION "caption_erased_open"();
