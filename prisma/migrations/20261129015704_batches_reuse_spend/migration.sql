-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "batch_id" UUID,
ADD COLUMN     "file_name" TEXT,
ADD COLUMN     "goapi_tasks" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "item_index" INTEGER,
ADD COLUMN     "name" TEXT,
ADD COLUMN     "reserved_cents" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reuse" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "reused_from" UUID,
ADD COLUMN     "waits_for" UUID;

-- AlterTable
ALTER TABLE "idempotency_keys" ADD COLUMN     "batch_id" UUID,
ALTER COLUMN "caption_id" DROP NOT NULL;

-- AlterTable
ALTER TABLE "callback_events" ADD COLUMN     "batch_id" UUID,
ALTER COLUMN "caption_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "batches" (
    "id" UUID NOT NULL,
    "caller" TEXT NOT NULL DEFAULT '',
    "total" INTEGER NOT NULL,
    "open_items" INTEGER NOT NULL,
    "prompt_style" TEXT NOT NULL,
    "caption_length" TEXT NOT NULL,
    "prepend" TEXT NOT NULL DEFAULT '',
    "append" TEXT NOT NULL DEFAULT '',
    "callback_url" TEXT,
    "metadata" JSONB,
    "reuse" BOOLEAN NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),
    "callback_state" "callback_state" NOT NULL DEFAULT 'none',
    "callback_attempts" INTEGER NOT NULL DEFAULT 0,
    "callback_next_at" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "caller_spend" (
    "caller" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "cents" INTEGER NOT NULL,

    CONSTRAINT "caller_spend_pkey" PRIMARY KEY ("caller","day")
);

-- CreateTable
CREATE TABLE "caller_turns" (
    "caller" TEXT NOT NULL,
    "last_sent_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "caller_turns_pkey" PRIMARY KEY ("caller")
);

-- CreateIndex
CREATE INDEX "batches_caller_created_at_id_idx" ON "batches"("caller", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "batches_callback_next_at_idx" ON "batches"("callback_next_at");

-- CreateIndex
CREATE INDEX "captions_batch_id_item_index_idx" ON "captions"("batch_id", "item_index");

-- CreateIndex
CREATE UNIQUE INDEX "callback_events_batch_id_key" ON "callback_events"("batch_id");

-- AddForeignKey
ALTER TABLE "captions" ADD CONSTRAINT "captions_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A callback event tells of one caption or of one batch.
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_one_subject"
  CHECK (num_nonnulls("caption_id", "batch_id") = 1);

-- The captions of one image for one caller and options: a reusable completed one, or an open one to
-- wait for. The URL is hashed so that no URL is too long for the index.
CREATE INDEX "captions_same_image_idx" ON "captions"("caller", md5("image_url"), "prompt_style", "caption_length");

-- Captions holding one of the deployment's GoAPI task slots: sent (or maybe sent) and not finished.
CREATE INDEX "captions_goapi_slot_idx" ON "captions"("id")
  WHERE "status" IN ('queued', 'pending', 'processing') AND "submit_state" IN ('in_flight', 'ambiguous', 'accepted');

-- Captions waiting for a slot, oldest first within each caller.
CREATE INDEX "captions_slot_wait_idx" ON "captions"("caller", "created_at", "item_index")
  WHERE "status" = 'queued' AND "submit_state" IN ('not_sent', 'refused') AND "waits_for" IS NULL;

CREATE INDEX "captions_waits_for_idx" ON "captions"("waits_for") WHERE "waits_for" IS NOT NULL;

-- What a caption's end means beyond itself, whichever statement ends it:
-- * captions waiting for it take its text once it completes, and after a failure the earliest of them is
--   sent itself and the others wait for that one,
-- * its batch has one open item less, and is completed (its callback due) when none is left,
-- * cents held against its caller's budget and not spent on a task are given back.
CREATE FUNCTION "caption_finished"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF NEW.reserved_cents > NEW.goapi_tasks THEN
    UPDATE caller_spend SET cents = cents - (NEW.reserved_cents - NEW.goapi_tasks)
      WHERE caller = NEW.caller AND day = (NEW.created_at AT TIME ZONE 'UTC')::date;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_finished" AFTER UPDATE OF "status" ON "captions" FOR EACH ROW
  WHEN (OLD."status" IN ('queued', 'pending', 'processing') AND NEW."status" IN ('completed', 'failed'))
  EXECUTE FUNCTION "caption_finished"();

-- A task beyond what was held for the caption (a resend) is added to its caller's spend for the day.
CREATE FUNCTION "caption_task_made"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE caller_spend
    SET cents = cents + GREATEST(NEW.goapi_tasks, NEW.reserved_cents) - GREATEST(OLD.goapi_tasks, OLD.reserved_cents)
    WHERE caller = NEW.caller AND day = (NEW.created_at AT TIME ZONE 'UTC')::date;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_task_made" AFTER UPDATE OF "goapi_tasks" ON "captions" FOR EACH ROW
  WHEN (GREATEST(NEW."goapi_tasks", NEW."reserved_cents") > GREATEST(OLD."goapi_tasks", OLD."reserved_cents"))
  EXECUTE FUNCTION "caption_task_made"();
