CREATE TABLE "function_aliases" (
	"function_id" uuid NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"weighted_version" integer,
	"weight" double precision,
	"description" text DEFAULT '' NOT NULL,
	"min_warm" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "function_aliases_function_id_name_pk" PRIMARY KEY("function_id","name")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"function_id" uuid NOT NULL,
	"namespace" text NOT NULL,
	"function_name" text NOT NULL,
	"alias" text NOT NULL,
	"from_version" integer NOT NULL,
	"to_version" integer NOT NULL,
	"steps" jsonb NOT NULL,
	"step_ms" integer NOT NULL,
	"guard" jsonb NOT NULL,
	"status" text NOT NULL,
	"step_index" integer DEFAULT 0 NOT NULL,
	"step_started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"next_check_at" timestamp (3) with time zone,
	"reason" text,
	"history" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "invocation_rollups" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "invocation_rollups" DROP CONSTRAINT "invocation_rollups_function_id_resolution_bucket_pk";--> statement-breakpoint
ALTER TABLE "invocation_rollups" ADD CONSTRAINT "invocation_rollups_function_id_resolution_bucket_version_pk" PRIMARY KEY("function_id","resolution","bucket","version");--> statement-breakpoint
ALTER TABLE "functions" ADD COLUMN "tags" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "functions" ADD COLUMN "policy" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "functions" ADD COLUMN "url_config" jsonb;--> statement-breakpoint
ALTER TABLE "functions" ADD COLUMN "event_invoke_config" jsonb;--> statement-breakpoint
ALTER TABLE "invocations" ADD COLUMN "alias" text;--> statement-breakpoint
ALTER TABLE "function_aliases" ADD CONSTRAINT "function_aliases_function_id_functions_id_fk" FOREIGN KEY ("function_id") REFERENCES "public"."functions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "function_aliases" ADD CONSTRAINT "function_aliases_version_fk" FOREIGN KEY ("function_id","version") REFERENCES "public"."function_versions"("function_id","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "function_aliases" ADD CONSTRAINT "function_aliases_weighted_version_fk" FOREIGN KEY ("function_id","weighted_version") REFERENCES "public"."function_versions"("function_id","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_function_id_functions_id_fk" FOREIGN KEY ("function_id") REFERENCES "public"."functions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rollouts_function_alias_idx" ON "rollouts" USING btree ("function_id","alias","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_active_key" ON "rollouts" USING btree ("function_id","alias") WHERE status in ('running', 'paused');--> statement-breakpoint
-- Every existing function gets its `latest` alias, pointing where latest_version does.
INSERT INTO "function_aliases" ("function_id", "name", "version") SELECT "id", 'latest', "latest_version" FROM "functions" ON CONFLICT DO NOTHING;