-- DropIndex
DROP INDEX "captions_created_at_id_idx";

-- DropIndex
DROP INDEX "captions_status_created_at_id_idx";

-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "caller" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE INDEX "captions_caller_created_at_id_idx" ON "captions"("caller", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "captions_caller_status_created_at_id_idx" ON "captions"("caller", "status", "created_at" DESC, "id" DESC);
