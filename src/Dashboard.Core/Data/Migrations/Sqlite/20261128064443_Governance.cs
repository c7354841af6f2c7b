using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Governance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    time = table.Column<long>(type: "INTEGER", nullable: false),
                    actor = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    target_type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    target = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    registered_model_id = table.Column<long>(type: "INTEGER", nullable: true),
                    model_name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    version = table.Column<int>(type: "INTEGER", nullable: true),
                    request_id = table.Column<long>(type: "INTEGER", nullable: true),
                    before = table.Column<string>(type: "TEXT", maxLength: 16000, nullable: true),
                    after = table.Column<string>(type: "TEXT", maxLength: 16000, nullable: true),
                    reason = table.Column<string>(type: "TEXT", maxLength: 5000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "promotion_policies",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    registered_model_id = table.Column<long>(type: "INTEGER", nullable: true),
                    protected_stages = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    protected_aliases = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    required_approvals = table.Column<int>(type: "INTEGER", nullable: false),
                    approver_role = table.Column<bool>(type: "INTEGER", nullable: false),
                    approver_groups = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    expiry_hours = table.Column<int>(type: "INTEGER", nullable: true),
                    direct_change = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    gates = table.Column<string>(type: "TEXT", maxLength: 16000, nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_by = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_promotion_policies", x => x.id);
                    table.ForeignKey(
                        name: "FK_promotion_policies_registered_models_registered_model_id",
                        column: x => x.registered_model_id,
                        principalTable: "registered_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "promotion_requests",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    registered_model_id = table.Column<long>(type: "INTEGER", nullable: false),
                    model_name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    version = table.Column<int>(type: "INTEGER", nullable: false),
                    target_kind = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    target = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    archive_existing = table.Column<bool>(type: "INTEGER", nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    requested_by = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    comment = table.Column<string>(type: "TEXT", maxLength: 5000, nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: true),
                    closed_at = table.Column<long>(type: "INTEGER", nullable: true),
                    closed_by = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    previous_version = table.Column<int>(type: "INTEGER", nullable: true),
                    gate_results = table.Column<string>(type: "TEXT", maxLength: 32000, nullable: true),
                    override_reason = table.Column<string>(type: "TEXT", maxLength: 5000, nullable: true),
                    overridden_by = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_promotion_requests", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhooks",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    url = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    events = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    model_name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    secret = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    created_by = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhooks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "promotion_comments",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    request_id = table.Column<long>(type: "INTEGER", nullable: false),
                    author = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    body = table.Column<string>(type: "TEXT", maxLength: 5000, nullable: false),
                    time = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_promotion_comments", x => x.id);
                    table.ForeignKey(
                        name: "FK_promotion_comments_promotion_requests_request_id",
                        column: x => x.request_id,
                        principalTable: "promotion_requests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "promotion_reviews",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    request_id = table.Column<long>(type: "INTEGER", nullable: false),
                    reviewer = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    decision = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    comment = table.Column<string>(type: "TEXT", maxLength: 5000, nullable: true),
                    time = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_promotion_reviews", x => x.id);
                    table.ForeignKey(
                        name: "FK_promotion_reviews_promotion_requests_request_id",
                        column: x => x.request_id,
                        principalTable: "promotion_requests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    webhook_id = table.Column<long>(type: "INTEGER", nullable: false),
                    event_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    event_type = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    payload = table.Column<string>(type: "TEXT", maxLength: 64000, nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    next_attempt_at = table.Column<long>(type: "INTEGER", nullable: false),
                    delivered_at = table.Column<long>(type: "INTEGER", nullable: true),
                    last_status = table.Column<int>(type: "INTEGER", nullable: true),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    locked_until = table.Column<long>(type: "INTEGER", nullable: true),
                    locked_by = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "FK_webhook_deliveries_webhooks_webhook_id",
                        column: x => x.webhook_id,
                        principalTable: "webhooks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_attempts",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    delivery_id = table.Column<long>(type: "INTEGER", nullable: false),
                    number = table.Column<int>(type: "INTEGER", nullable: false),
                    time = table.Column<long>(type: "INTEGER", nullable: false),
                    status = table.Column<int>(type: "INTEGER", nullable: true),
                    error = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    duration_ms = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_attempts", x => x.id);
                    table.ForeignKey(
                        name: "FK_webhook_attempts_webhook_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "webhook_deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_action_id",
                table: "audit_events",
                columns: new[] { "action", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_actor_id",
                table: "audit_events",
                columns: new[] { "actor", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_registered_model_id_id",
                table: "audit_events",
                columns: new[] { "registered_model_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_request_id",
                table: "audit_events",
                column: "request_id");

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_time",
                table: "audit_events",
                column: "time");

            migrationBuilder.CreateIndex(
                name: "IX_promotion_comments_request_id_id",
                table: "promotion_comments",
                columns: new[] { "request_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_promotion_policies_registered_model_id",
                table: "promotion_policies",
                column: "registered_model_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_promotion_requests_registered_model_id_version",
                table: "promotion_requests",
                columns: new[] { "registered_model_id", "version" });

            migrationBuilder.CreateIndex(
                name: "IX_promotion_requests_requested_by_id",
                table: "promotion_requests",
                columns: new[] { "requested_by", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_promotion_requests_state_id",
                table: "promotion_requests",
                columns: new[] { "state", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_promotion_reviews_request_id_reviewer",
                table: "promotion_reviews",
                columns: new[] { "request_id", "reviewer" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_webhook_attempts_delivery_id_number",
                table: "webhook_attempts",
                columns: new[] { "delivery_id", "number" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_state_next_attempt_at",
                table: "webhook_deliveries",
                columns: new[] { "state", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_webhook_id_id",
                table: "webhook_deliveries",
                columns: new[] { "webhook_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_events");

            migrationBuilder.DropTable(
                name: "promotion_comments");

            migrationBuilder.DropTable(
                name: "promotion_policies");

            migrationBuilder.DropTable(
                name: "promotion_reviews");

            migrationBuilder.DropTable(
                name: "webhook_attempts");

            migrationBuilder.DropTable(
                name: "promotion_requests");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "webhooks");
        }
    }
}
