CREATE TABLE "qbo_payment_links" (
	"tenant_id" text NOT NULL,
	"payment_id" text NOT NULL,
	"qbo_invoice_id" text NOT NULL,
	CONSTRAINT "qbo_payment_links_tenant_id_payment_id_qbo_invoice_id_pk" PRIMARY KEY("tenant_id","payment_id","qbo_invoice_id")
);
--> statement-breakpoint
ALTER TABLE "invoice_pushes" ADD COLUMN "qbo_total" bigint;--> statement-breakpoint
ALTER TABLE "invoice_pushes" ADD COLUMN "qbo_balance" bigint;--> statement-breakpoint
ALTER TABLE "invoice_pushes" ADD COLUMN "paid_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "invoice_pushes" ADD COLUMN "discrepancy" text;--> statement-breakpoint
ALTER TABLE "invoice_pushes" ADD COLUMN "reconciled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "qbo_payment_links" ADD CONSTRAINT "qbo_payment_links_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invoice_pushes_qbo_invoice" ON "invoice_pushes" USING btree ("tenant_id","qbo_invoice_id");