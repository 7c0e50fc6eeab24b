-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "caption_status" AS ENUM ('queued', 'pending', 'processing', 'completed', 'failed');

-- CreateTable
CREATE TABLE "captions" (
    "id" UUID NOT NULL,
    "status" "caption_status" NOT NULL DEFAULT 'queued',
    "image_url" TEXT NOT NULL,
    "prompt_style" TEXT NOT NULL,
    "caption_length" TEXT NOT NULL,
    "callback_url" TEXT,
    "metadata" JSONB,
    "caption" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "goapi_task_id" TEXT,
    "goapi_task" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "captions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "captions_goapi_task_id_key" ON "captions"("goapi_task_id");

-- CreateIndex
CREATE INDEX "captions_created_at_id_idx" ON "captions"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "captions_status_created_at_id_idx" ON "captions"("status", "created_at" DESC, "id" DESC);
