-- Only a caption a request waits for is announced when it ends. A transaction that notifies holds
-- PostgreSQL's one notify lock from its commit's start to its end, so announcing every finished caption
-- would put every webhook's commit in one line, across replicas, for the few that someone waits for.
-- The waiting request sets the flag (and reads the caption) before it sleeps; the row lock orders that
-- write against the one that finishes the caption, so the end is either seen by the read or announced.
ALTER TABLE "captions" ADD COLUMN "notify_when_final" BOOLEAN NOT NULL DEFAULT false;

DROP TRIGGER "captions_finished_notify" ON "captions";

CREATE TRIGGER "captions_finished_notify" AFTER UPDATE OF "status" ON "captions" FOR EACH ROW
  WHEN (NEW."notify_when_final"
    AND OLD."status"::text IN ('queued', 'pending', 'processing')
    AND NEW."status"::text IN ('completed', 'failed', 'canceled'))
  EXECUTE FUNCTION "caption_finished_notify"();
