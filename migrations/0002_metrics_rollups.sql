CREATE TABLE "invocation_rollups" (
	"function_id" uuid NOT NULL,
	"resolution" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"namespace" text NOT NULL,
	"function_name" text NOT NULL,
	"invocations" integer NOT NULL,
	"errors" integer NOT NULL,
	"throttles" integer NOT NULL,
	"cold" integer NOT NULL,
	"prewarmed" integer NOT NULL,
	"warm" integer NOT NULL,
	"function_errors" integer NOT NULL,
	"timeouts" integer NOT NULL,
	"out_of_memory" integer NOT NULL,
	"crashes" integer NOT NULL,
	"billed_ms" bigint NOT NULL,
	"gb_seconds" double precision NOT NULL,
	"max_concurrency" integer NOT NULL,
	"latency_cold" integer[] DEFAULT '{}'::int4[] NOT NULL,
	"latency_prewarmed" integer[] DEFAULT '{}'::int4[] NOT NULL,
	"latency_warm" integer[] DEFAULT '{}'::int4[] NOT NULL,
	"duration" integer[] DEFAULT '{}'::int4[] NOT NULL,
	"init" integer[] DEFAULT '{}'::int4[] NOT NULL,
	"queue_wait" integer[] DEFAULT '{}'::int4[] NOT NULL,
	CONSTRAINT "invocation_rollups_function_id_resolution_bucket_pk" PRIMARY KEY("function_id","resolution","bucket")
);
--> statement-breakpoint
ALTER TABLE "invocations" ADD COLUMN "concurrency" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX "invocation_rollups_namespace_idx" ON "invocation_rollups" USING btree ("namespace","resolution","bucket");