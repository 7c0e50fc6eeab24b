-- The callback job claims due callbacks (callback_state = 'pending'); finished ones leave the index,
-- so the claim reads what is waiting, not every caption that ever had a callback.
-- DropIndex
DROP INDEX "captions_callback_next_at_idx";

-- CreateIndex
CREATE INDEX "captions_callback_next_at_idx" ON "captions"("callback_next_at") WHERE (callback_state = 'pending');
