-- AlterEnum
ALTER TYPE "delivery_outcome" ADD VALUE 'refused';

-- CreateIndex
CREATE INDEX "captions_open_status_deadline_idx" ON "captions"("status", "deadline_at") WHERE (status IN ('queued', 'pending', 'processing'));
