-- CreateEnum
CREATE TYPE "delivery_outcome" AS ENUM ('delivered', 'failed', 'gone');

-- AlterEnum
ALTER TYPE "callback_state" ADD VALUE 'gone';

-- CreateTable
CREATE TABLE "callback_events" (
    "id" UUID NOT NULL,
    "caption_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "resend_requested_at" TIMESTAMPTZ(3),

    CONSTRAINT "callback_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "callback_deliveries" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL,
    "url" TEXT NOT NULL,
    "status_code" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER,
    "outcome" "delivery_outcome",

    CONSTRAINT "callback_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "callback_events_caption_id_key" ON "callback_events"("caption_id");

-- CreateIndex
CREATE UNIQUE INDEX "callback_deliveries_event_id_attempt_key" ON "callback_deliveries"("event_id", "attempt");

-- AddForeignKey
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_caption_id_fkey" FOREIGN KEY ("caption_id") REFERENCES "captions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "callback_deliveries" ADD CONSTRAINT "callback_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "callback_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
