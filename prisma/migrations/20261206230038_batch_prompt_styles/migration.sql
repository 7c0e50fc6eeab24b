-- AlterTable
ALTER TABLE "batches" ADD COLUMN     "prompt_styles" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Batches posted before several styles existed have the one they were posted with.
UPDATE "batches" SET "prompt_styles" = ARRAY["prompt_style"] WHERE "prompt_styles" = ARRAY[]::TEXT[];
