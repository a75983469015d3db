ALTER TABLE "invoice_pushes" ADD COLUMN "delivered_at" timestamp with time zone;--> statement-breakpoint
-- Invoices created before this column existed had their delivery tried already.
UPDATE "invoice_pushes" SET "delivered_at" = "updated_at" WHERE "status" = 'created';
