-- Secrets (gateway/secrets/). Environment values already stored are sealed by each gateway at start, in batches, while it serves
-- (gateway/secrets/env-sealing-store.ts): readers take a sealed and a plain row alike, so nothing waits for it.
CREATE TABLE "secrets" (
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"value_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "secrets_namespace_name_pk" PRIMARY KEY("namespace","name")
);
--> statement-breakpoint
ALTER TABLE "function_versions" ADD COLUMN "secrets" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "function_versions" ADD COLUMN "secret_env" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_namespace_namespaces_name_fk" FOREIGN KEY ("namespace") REFERENCES "public"."namespaces"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "secrets_updated_at_idx" ON "secrets" USING btree ("updated_at");