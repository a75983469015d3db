CREATE TABLE "share_links" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"label" text NOT NULL,
	"created_by" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "share_links_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "invoice_pushes" ADD COLUMN "customer_name" text;--> statement-breakpoint
ALTER TABLE "qbo_payment_links" ADD COLUMN "amount" bigint;--> statement-breakpoint
ALTER TABLE "qbo_payment_links" ADD COLUMN "received_on" date;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "owner_id" text;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "pipeline_id" text;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "deal_facts_at" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "share_link_id" text;--> statement-breakpoint
ALTER TABLE "share_links" ADD CONSTRAINT "share_links_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "share_links_tenant" ON "share_links" USING btree ("tenant_id");--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_share_link_id_share_links_id_fk" FOREIGN KEY ("share_link_id") REFERENCES "public"."share_links"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invoice_pushes_open" ON "invoice_pushes" USING btree ("tenant_id","due_date") WHERE status = 'created';