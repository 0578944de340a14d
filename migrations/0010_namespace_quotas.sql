ALTER TABLE "namespaces" ADD COLUMN "max_functions" integer;--> statement-breakpoint
ALTER TABLE "namespaces" ADD COLUMN "max_versions" integer;--> statement-breakpoint
ALTER TABLE "namespaces" ADD COLUMN "max_code_bytes" bigint;--> statement-breakpoint
ALTER TABLE "namespaces" ADD COLUMN "max_upload_bytes" integer;--> statement-breakpoint
CREATE INDEX "function_versions_code_sha256_idx" ON "function_versions" USING btree ("code_sha256");