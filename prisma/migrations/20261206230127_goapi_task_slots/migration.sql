-- GoAPI task slots, one row per slot: rows 1 to GOAPI_MAX_CONCURRENCY (written by the service when it
-- starts, from its configuration) are the cap's, each free or held by one caption. A caption takes a free
-- one with SELECT ... FOR UPDATE SKIP LOCKED in the statement that marks it as being sent, so creations
-- and replicas take slots side by side instead of one after another under one lock.
CREATE TABLE "goapi_slots" (
    "slot" SERIAL NOT NULL,
    "caption_id" UUID,

    CONSTRAINT "goapi_slots_pkey" PRIMARY KEY ("slot")
);

CREATE UNIQUE INDEX "goapi_slots_caption_id_key" ON "goapi_slots"("caption_id");

-- The free slots only: a taker finds one without reading past the held ones (tens of thousands under a
-- large cap).
CREATE INDEX "goapi_slots_free_idx" ON "goapi_slots"("slot") WHERE "caption_id" IS NULL;

-- A task held beyond the cap (the cap was lowered, or a webhook brought back the task of a caption while
-- every slot was taken) gets a row numbered below 0, from -1 downwards: never a slot of the cap.
ALTER SEQUENCE "goapi_slots_slot_seq" INCREMENT BY -1 MINVALUE -2147483648 MAXVALUE -1 START WITH -1 RESTART;

-- A caption holds a slot while it is open and its create call is in flight, got no clear answer
-- ('ambiguous': the task may exist) or was accepted. Whatever statement makes a caption hold one, it has
-- a row: the one its statement took, else a free one, else one beyond the cap. Without a cap (no row
-- from 1 up), nothing is counted.
CREATE FUNCTION "caption_takes_slot"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  free_slot integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM goapi_slots WHERE slot > 0)
      OR EXISTS (SELECT 1 FROM goapi_slots WHERE caption_id = NEW.id) THEN
    RETURN NULL;
  END IF;
  SELECT slot INTO free_slot FROM goapi_slots WHERE slot > 0 AND caption_id IS NULL
    ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF free_slot IS NULL THEN
    INSERT INTO goapi_slots (caption_id) VALUES (NEW.id);
  ELSE
    UPDATE goapi_slots SET caption_id = NEW.id WHERE slot = free_slot;
  END IF;
  RETURN NULL;
END
$$;

-- A caption that stops holding its slot (finished, refused, canceled, erased) gives it back. A slot of the
-- cap freed while tasks are held beyond it goes to the oldest of those instead, so that no more than the
-- cap ever run once the cap is lowered.
CREATE FUNCTION "caption_gives_slot_back"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  freed integer;
  beyond goapi_slots;
BEGIN
  DELETE FROM goapi_slots WHERE caption_id = OLD.id AND slot < 0;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE goapi_slots SET caption_id = NULL WHERE caption_id = OLD.id RETURNING slot INTO freed;
  IF freed IS NULL THEN
    RETURN NULL;
  END IF;
  DELETE FROM goapi_slots WHERE slot = (
      SELECT slot FROM goapi_slots WHERE slot < 0 ORDER BY slot DESC LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING * INTO beyond;
  IF beyond.caption_id IS NOT NULL THEN
    UPDATE goapi_slots SET caption_id = beyond.caption_id WHERE slot = freed;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_take_slot" AFTER INSERT ON "captions" FOR EACH ROW
  WHEN (NEW."status" IN ('queued', 'pending', 'processing')
    AND NEW."submit_state" IN ('in_flight', 'ambiguous', 'accepted'))
  EXECUTE FUNCTION "caption_takes_slot"();

CREATE TRIGGER "captions_take_slot_on_update" AFTER UPDATE OF "status", "submit_state" ON "captions"
  FOR EACH ROW
  WHEN (NEW."status" IN ('queued', 'pending', 'processing')
    AND NEW."submit_state" IN ('in_flight', 'ambiguous', 'accepted')
    AND NOT (OLD."status" IN ('queued', 'pending', 'processing')
      AND OLD."submit_state" IN ('in_flight', 'ambiguous', 'accepted')))
  EXECUTE FUNCTION "caption_takes_slot"();

CREATE TRIGGER "captions_give_slot_back" AFTER UPDATE OF "status", "submit_state" ON "captions"
  FOR EACH ROW
  WHEN (OLD."status" IN ('queued', 'pending', 'processing')
    AND OLD."submit_state" IN ('in_flight', 'ambiguous', 'accepted')
    AND NOT (NEW."status" IN ('queued', 'pending', 'processing')
      AND NEW."submit_state" IN ('in_flight', 'ambiguous', 'accepted')))
  EXECUTE FUNCTION "caption_gives_slot_back"();

CREATE TRIGGER "captions_erased_give_slot_back" AFTER DELETE ON "captions" FOR EACH ROW
  WHEN (OLD."status" IN ('queued', 'pending', 'processing')
    AND OLD."submit_state" IN ('in_flight', 'ambiguous', 'accepted'))
  EXECUTE FUNCTION "caption_gives_slot_back"();

-- The captions that hold a slot now, counted before the cap is known: each gets a row beyond the cap, and
-- the service, when it starts, moves them into the cap's slots (src/captions/slots.repository.ts).
INSERT INTO goapi_slots (caption_id)
  SELECT id FROM captions
  WHERE status IN ('queued', 'pending', 'processing') AND submit_state IN ('in_flight', 'ambiguous', 'accepted')
  ORDER BY submitted_at, id;
