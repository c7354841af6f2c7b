using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class ModelRegistry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "registered_models",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    name = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    creation_time = table.Column<long>(type: "bigint", nullable: false),
                    last_updated_time = table.Column<long>(type: "bigint", nullable: false),
                    description = table.Column<string>(type: "nvarchar(max)", maxLength: 5000, nullable: true),
                    user_id = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    last_version = table.Column<int>(type: "int", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_registered_models", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "registry_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    registered_model_id = table.Column<long>(type: "bigint", nullable: false),
                    model_name = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    version = table.Column<int>(type: "int", nullable: true),
                    kind = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    alias = table.Column<string>(type: "nvarchar(255)", maxLength: 255, nullable: true),
                    before = table.Column<string>(type: "nvarchar(255)", maxLength: 255, nullable: true),
                    after = table.Column<string>(type: "nvarchar(255)", maxLength: 255, nullable: true),
                    actor = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    timestamp = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_registry_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "model_versions",
                columns: table => new
                {
                    registered_model_id = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<int>(type: "int", nullable: false),
                    creation_time = table.Column<long>(type: "bigint", nullable: false),
                    last_updated_time = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    current_stage = table.Column<string>(type: "nvarchar(20)", maxLength: 20, nullable: false),
                    description = table.Column<string>(type: "nvarchar(max)", maxLength: 5000, nullable: true),
                    source = table.Column<string>(type: "nvarchar(2064)", maxLength: 2064, nullable: false),
                    storage_location = table.Column<string>(type: "nvarchar(2064)", maxLength: 2064, nullable: false),
                    run_id = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: true),
                    run_link = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: true),
                    model_id = table.Column<string>(type: "nvarchar(36)", maxLength: 36, nullable: true),
                    status = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    status_message = table.Column<string>(type: "nvarchar(1000)", maxLength: 1000, nullable: true),
                    deleted = table.Column<bool>(type: "bit", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_versions", x => new { x.registered_model_id, x.version });
                    table.ForeignKey(
                        name: "FK_model_versions_registered_models_registered_model_id",
                        column: x => x.registered_model_id,
                        principalTable: "registered_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "registered_model_aliases",
                columns: table => new
                {
                    registered_model_id = table.Column<long>(type: "bigint", nullable: false),
                    alias = table.Column<string>(type: "nvarchar(255)", maxLength: 255, nullable: false),
                    version = table.Column<int>(type: "int", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_registered_model_aliases", x => new { x.registered_model_id, x.alias });
                    table.ForeignKey(
                        name: "FK_registered_model_aliases_registered_models_registered_model_id",
                        column: x => x.registered_model_id,
                        principalTable: "registered_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "registered_model_tags",
                columns: table => new
                {
                    registered_model_id = table.Column<long>(type: "bigint", nullable: false),
                    key = table.Column<string>(type: "nvarchar(250)", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "nvarchar(max)", maxLength: 5000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_registered_model_tags", x => new { x.registered_model_id, x.key });
                    table.ForeignKey(
                        name: "FK_registered_model_tags_registered_models_registered_model_id",
                        column: x => x.registered_model_id,
                        principalTable: "registered_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "model_version_tags",
                columns: table => new
                {
                    registered_model_id = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<int>(type: "int", nullable: false),
                    key = table.Column<string>(type: "nvarchar(250)", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "nvarchar(max)", maxLength: 5000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_version_tags", x => new { x.registered_model_id, x.version, x.key });
                    table.ForeignKey(
                        name: "FK_model_version_tags_model_versions_registered_model_id_version",
                        columns: x => new { x.registered_model_id, x.version },
                        principalTable: "model_versions",
                        principalColumns: new[] { "registered_model_id", "version" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_logged_models_source_run_id",
                table: "logged_models",
                column: "source_run_id");

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_model_id",
                table: "model_versions",
                column: "model_id");

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_run_id",
                table: "model_versions",
                column: "run_id");

            migrationBuilder.CreateIndex(
                name: "IX_registered_models_last_updated_time",
                table: "registered_models",
                column: "last_updated_time");

            migrationBuilder.CreateIndex(
                name: "IX_registered_models_name",
                table: "registered_models",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_registry_events_registered_model_id_version_id",
                table: "registry_events",
                columns: new[] { "registered_model_id", "version", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_version_tags");

            migrationBuilder.DropTable(
                name: "registered_model_aliases");

            migrationBuilder.DropTable(
                name: "registered_model_tags");

            migrationBuilder.DropTable(
                name: "registry_events");

            migrationBuilder.DropTable(
                name: "model_versions");

            migrationBuilder.DropTable(
                name: "registered_models");

            migrationBuilder.DropIndex(
                name: "IX_logged_models_source_run_id",
                table: "logged_models");
        }
    }
}
