CREATE TABLE "invoice_reminders" (
	"push_id" text NOT NULL,
	"step" integer NOT NULL,
	"tenant_id" text NOT NULL,
	"status" text NOT NULL,
	"as_of" date NOT NULL,
	"hubspot_task_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invoice_reminders_push_id_step_pk" PRIMARY KEY("push_id","step")
);
--> statement-breakpoint
ALTER TABLE "invoice_reminders" ADD CONSTRAINT "invoice_reminders_push_id_invoice_pushes_id_fk" FOREIGN KEY ("push_id") REFERENCES "public"."invoice_pushes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice_reminders" ADD CONSTRAINT "invoice_reminders_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;