-- Every event of a caption, retired ones too. The unique index on caption_id is partial (live events
-- only), so neither deleting a caption's events nor the foreign key's cascade could use it: each deleted
-- caption read the whole of callback_events (a retention sweep of a large backlog took seconds a chunk).
CREATE INDEX "callback_events_caption_id_idx" ON "callback_events"("caption_id");

-- Captions a replica holds, few however long the history: giving them back at shutdown
-- (release-all-leases) read the whole table instead.
CREATE INDEX "captions_lease_owner_idx" ON "captions"("lease_owner") WHERE "lease_owner" IS NOT NULL;
