-- AlterTable
ALTER TABLE "captions" ADD COLUMN     "trace_parent" TEXT;
