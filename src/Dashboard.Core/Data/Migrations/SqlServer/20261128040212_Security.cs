using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class Security : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "experiment_permissions",
                columns: table => new
                {
                    experiment_id = table.Column<long>(type: "bigint", nullable: false),
                    principal_kind = table.Column<string>(type: "nvarchar(8)", maxLength: 8, nullable: false),
                    principal_name = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    permission = table.Column<string>(type: "nvarchar(20)", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_experiment_permissions", x => new { x.experiment_id, x.principal_kind, x.principal_name });
                    table.ForeignKey(
                        name: "FK_experiment_permissions_experiments_experiment_id",
                        column: x => x.experiment_id,
                        principalTable: "experiments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "registered_model_permissions",
                columns: table => new
                {
                    registered_model_id = table.Column<long>(type: "bigint", nullable: false),
                    principal_kind = table.Column<string>(type: "nvarchar(8)", maxLength: 8, nullable: false),
                    principal_name = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    permission = table.Column<string>(type: "nvarchar(20)", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_registered_model_permissions", x => new { x.registered_model_id, x.principal_kind, x.principal_name });
                    table.ForeignKey(
                        name: "FK_registered_model_permissions_registered_models_registered_model_id",
                        column: x => x.registered_model_id,
                        principalTable: "registered_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "secret_blocks",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    time = table.Column<long>(type: "bigint", nullable: false),
                    actor = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    target = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    key = table.Column<string>(type: "nvarchar(250)", maxLength: 250, nullable: false),
                    rule = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    action = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    run_id = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: true),
                    experiment_id = table.Column<long>(type: "bigint", nullable: true),
                    model_name = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_secret_blocks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    subject = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    name = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    email = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    role = table.Column<string>(type: "nvarchar(20)", maxLength: 20, nullable: false),
                    groups = table.Column<string>(type: "nvarchar(max)", maxLength: 8000, nullable: false),
                    is_service = table.Column<bool>(type: "bit", nullable: false),
                    creation_time = table.Column<long>(type: "bigint", nullable: false),
                    last_seen_time = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "access_tokens",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: false),
                    scope = table.Column<string>(type: "nvarchar(10)", maxLength: 10, nullable: false),
                    hash = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    prefix = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    creation_time = table.Column<long>(type: "bigint", nullable: false),
                    expiry_time = table.Column<long>(type: "bigint", nullable: true),
                    revoked_time = table.Column<long>(type: "bigint", nullable: true),
                    last_used_time = table.Column<long>(type: "bigint", nullable: true),
                    created_by = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_access_tokens", x => x.id);
                    table.ForeignKey(
                        name: "FK_access_tokens_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_access_tokens_hash",
                table: "access_tokens",
                column: "hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_access_tokens_user_id",
                table: "access_tokens",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "IX_experiment_permissions_principal_kind_principal_name",
                table: "experiment_permissions",
                columns: new[] { "principal_kind", "principal_name" });

            migrationBuilder.CreateIndex(
                name: "IX_registered_model_permissions_principal_kind_principal_name",
                table: "registered_model_permissions",
                columns: new[] { "principal_kind", "principal_name" });

            migrationBuilder.CreateIndex(
                name: "IX_secret_blocks_time",
                table: "secret_blocks",
                column: "time");

            migrationBuilder.CreateIndex(
                name: "IX_users_name",
                table: "users",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_users_subject",
                table: "users",
                column: "subject",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "access_tokens");

            migrationBuilder.DropTable(
                name: "experiment_permissions");

            migrationBuilder.DropTable(
                name: "registered_model_permissions");

            migrationBuilder.DropTable(
                name: "secret_blocks");

            migrationBuilder.DropTable(
                name: "users");
        }
    }
}
