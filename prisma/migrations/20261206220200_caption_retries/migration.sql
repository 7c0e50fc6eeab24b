-- DropIndex
DROP INDEX "callback_events_caption_id_key";

-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "retries" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "callback_events" ADD COLUMN     "retired_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE UNIQUE INDEX "callback_events_caption_id_key" ON "callback_events"("caption_id") WHERE (retired_at IS NULL);

-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "earlier_task_ids" TEXT[] DEFAULT ARRAY[]::TEXT[];
