-- CreateEnum
CREATE TYPE "submit_state" AS ENUM ('not_sent', 'in_flight', 'refused', 'ambiguous', 'accepted');

-- CreateEnum
CREATE TYPE "callback_state" AS ENUM ('none', 'pending', 'delivered', 'failed');

-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "callback_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "callback_next_at" TIMESTAMPTZ(3),
ADD COLUMN     "callback_state" "callback_state" NOT NULL DEFAULT 'none',
ADD COLUMN     "deadline_at" TIMESTAMPTZ(3),
ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "lease_owner" TEXT,
ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3),
ADD COLUMN     "poll_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "resubmissions" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "submit_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "submit_state" "submit_state" NOT NULL DEFAULT 'not_sent',
ADD COLUMN     "submitted_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "caller" TEXT NOT NULL DEFAULT '',
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "caption_id" UUID NOT NULL,
    "response_status" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("caller","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE INDEX "captions_next_attempt_at_idx" ON "captions"("next_attempt_at");

-- CreateIndex
CREATE INDEX "captions_callback_next_at_idx" ON "captions"("callback_next_at");
