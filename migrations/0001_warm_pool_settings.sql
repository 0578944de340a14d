ALTER TABLE "function_versions" ADD COLUMN "keep_alive_ms" integer;--> statement-breakpoint
ALTER TABLE "function_versions" ADD COLUMN "min_warm" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "function_versions" ADD COLUMN "max_concurrency" integer;