-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "not_found_polls" INTEGER NOT NULL DEFAULT 0;
