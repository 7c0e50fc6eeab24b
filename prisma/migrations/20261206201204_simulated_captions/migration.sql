-- Captions made by the GoAPI simulator (zero-setup mode) are marked, so that no caption ever takes
-- their text as if GoAPI had written it.
ALTER TABLE "captions" ADD COLUMN "simulated" BOOLEAN NOT NULL DEFAULT false;
