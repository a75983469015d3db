CREATE TABLE "oauth_grants" (
	"tenant_id" text NOT NULL,
	"provider" text NOT NULL,
	"access_token" text NOT NULL,
	"refresh_token" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"refresh_expires_at" timestamp with time zone,
	"scopes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oauth_grants_tenant_id_provider_pk" PRIMARY KEY("tenant_id","provider")
);
--> statement-breakpoint
ALTER TABLE "oauth_grants" ADD CONSTRAINT "oauth_grants_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Existing installs and connections keep their (already encrypted) tokens.
INSERT INTO "oauth_grants" ("tenant_id", "provider", "access_token", "refresh_token", "expires_at", "scopes", "status", "updated_at")
SELECT "tenant_id", 'hubspot', "access_token", "refresh_token", "expires_at", "scopes",
  CASE "status" WHEN 'needs_reauth' THEN 'needs_reconnect' ELSE 'active' END, "updated_at" FROM "hubspot_installs";--> statement-breakpoint
INSERT INTO "oauth_grants" ("tenant_id", "provider", "access_token", "refresh_token", "expires_at", "refresh_expires_at", "status", "updated_at")
SELECT "tenant_id", 'quickbooks', "access_token", "refresh_token", "expires_at", "refresh_expires_at", "status", "updated_at" FROM "qbo_connections";--> statement-breakpoint
ALTER TABLE "hubspot_installs" DROP COLUMN "access_token";--> statement-breakpoint
ALTER TABLE "hubspot_installs" DROP COLUMN "refresh_token";--> statement-breakpoint
ALTER TABLE "hubspot_installs" DROP COLUMN "expires_at";--> statement-breakpoint
ALTER TABLE "hubspot_installs" DROP COLUMN "scopes";--> statement-breakpoint
ALTER TABLE "hubspot_installs" DROP COLUMN "status";--> statement-breakpoint
ALTER TABLE "qbo_connections" DROP COLUMN "access_token";--> statement-breakpoint
ALTER TABLE "qbo_connections" DROP COLUMN "refresh_token";--> statement-breakpoint
ALTER TABLE "qbo_connections" DROP COLUMN "expires_at";--> statement-breakpoint
ALTER TABLE "qbo_connections" DROP COLUMN "refresh_expires_at";--> statement-breakpoint
ALTER TABLE "qbo_connections" DROP COLUMN "status";