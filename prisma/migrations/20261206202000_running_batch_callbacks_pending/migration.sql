-- A running batch with a callbackUrl has its callback pending (due once the batch completes): `none`
-- means the batch has no callbackUrl. Batches written before showed `none` until they completed.
UPDATE "batches" SET "callback_state" = 'pending'
WHERE "callback_url" IS NOT NULL AND "callback_state" = 'none' AND "completed_at" IS NULL;
