CREATE TABLE "deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"function_id" uuid NOT NULL,
	"invocation_id" uuid NOT NULL,
	"condition" text NOT NULL,
	"type" text NOT NULL,
	"target" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_status" integer,
	"last_error" text,
	"child_invocation_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "triggers" (
	"id" uuid NOT NULL,
	"function_id" uuid NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"target" jsonb NOT NULL,
	"settings" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "triggers_function_id_name_pk" PRIMARY KEY("function_id","name"),
	CONSTRAINT "triggers_id_unique" UNIQUE("id")
);
--> statement-breakpoint
ALTER TABLE "functions" ADD COLUMN "destinations" jsonb;--> statement-breakpoint
ALTER TABLE "invocations" ADD COLUMN "trigger" text;--> statement-breakpoint
ALTER TABLE "invocations" ADD COLUMN "caused_by" uuid;--> statement-breakpoint
ALTER TABLE "invocations" ADD COLUMN "scheduled_for" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "triggers" ADD CONSTRAINT "triggers_function_id_functions_id_fk" FOREIGN KEY ("function_id") REFERENCES "public"."functions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_invocation_idx" ON "deliveries" USING btree ("invocation_id");--> statement-breakpoint
CREATE INDEX "deliveries_function_created_idx" ON "deliveries" USING btree ("function_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "triggers_type_idx" ON "triggers" USING btree ("type");