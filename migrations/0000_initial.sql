CREATE TABLE "code_blobs" (
	"sha256" text PRIMARY KEY NOT NULL,
	"tar_gz" "bytea" NOT NULL,
	"size_bytes" integer NOT NULL,
	"unpacked_bytes" integer NOT NULL,
	"file_count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "function_versions" (
	"function_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"runtime" text NOT NULL,
	"handler" text NOT NULL,
	"memory_mb" integer NOT NULL,
	"timeout_ms" integer NOT NULL,
	"env" jsonb NOT NULL,
	"code_sha256" text NOT NULL,
	"code_format" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "function_versions_function_id_version_pk" PRIMARY KEY("function_id","version")
);
--> statement-breakpoint
CREATE TABLE "functions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"namespace" text DEFAULT 'default' NOT NULL,
	"name" text NOT NULL,
	"latest_version" integer NOT NULL,
	"last_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invocations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"function_id" uuid NOT NULL,
	"function_name" text NOT NULL,
	"version" integer NOT NULL,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"cold_start" boolean NOT NULL,
	"start_kind" text NOT NULL,
	"queued_at" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone NOT NULL,
	"queue_wait_ms" real NOT NULL,
	"acquire_ms" real NOT NULL,
	"init_ms" real NOT NULL,
	"duration_ms" real NOT NULL,
	"billed_ms" integer NOT NULL,
	"memory_mb" integer NOT NULL,
	"error_code" text,
	"error_type" text,
	"error_message" text,
	"result" text,
	"result_truncated" boolean DEFAULT false NOT NULL,
	"logs" text DEFAULT '' NOT NULL,
	"logs_truncated" boolean DEFAULT false NOT NULL,
	"worker_id" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "function_versions" ADD CONSTRAINT "function_versions_function_id_functions_id_fk" FOREIGN KEY ("function_id") REFERENCES "public"."functions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "function_versions" ADD CONSTRAINT "function_versions_code_sha256_code_blobs_sha256_fk" FOREIGN KEY ("code_sha256") REFERENCES "public"."code_blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "functions_namespace_name_key" ON "functions" USING btree ("namespace","name");--> statement-breakpoint
CREATE INDEX "invocations_function_queued_at_idx" ON "invocations" USING btree ("function_id","queued_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "invocations_namespace_queued_at_idx" ON "invocations" USING btree ("namespace","queued_at" DESC NULLS LAST);