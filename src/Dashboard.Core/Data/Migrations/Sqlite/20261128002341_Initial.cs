using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "experiments",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    name = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    artifact_location = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    lifecycle_stage = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    creation_time = table.Column<long>(type: "INTEGER", nullable: false),
                    last_update_time = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_experiments", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "datasets",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    experiment_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    digest = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    source_type = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    source = table.Column<string>(type: "TEXT", nullable: false),
                    schema = table.Column<string>(type: "TEXT", nullable: true),
                    profile = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datasets", x => x.id);
                    table.ForeignKey(
                        name: "FK_datasets_experiments_experiment_id",
                        column: x => x.experiment_id,
                        principalTable: "experiments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "experiment_tags",
                columns: table => new
                {
                    experiment_id = table.Column<long>(type: "INTEGER", nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 5000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_experiment_tags", x => new { x.experiment_id, x.key });
                    table.ForeignKey(
                        name: "FK_experiment_tags_experiments_experiment_id",
                        column: x => x.experiment_id,
                        principalTable: "experiments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "logged_models",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    experiment_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    artifact_location = table.Column<string>(type: "TEXT", maxLength: 2064, nullable: false),
                    creation_timestamp_ms = table.Column<long>(type: "INTEGER", nullable: false),
                    last_updated_timestamp_ms = table.Column<long>(type: "INTEGER", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    status_message = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    model_type = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    source_run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    lifecycle_stage = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_logged_models", x => x.id);
                    table.ForeignKey(
                        name: "FK_logged_models_experiments_experiment_id",
                        column: x => x.experiment_id,
                        principalTable: "experiments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "runs",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    experiment_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 250, nullable: true),
                    user_id = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    start_time = table.Column<long>(type: "INTEGER", nullable: false),
                    end_time = table.Column<long>(type: "INTEGER", nullable: true),
                    lifecycle_stage = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    artifact_uri = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    deleted_time = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runs", x => x.id);
                    table.ForeignKey(
                        name: "FK_runs_experiments_experiment_id",
                        column: x => x.experiment_id,
                        principalTable: "experiments",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "logged_model_metrics",
                columns: table => new
                {
                    model_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<double>(type: "REAL", nullable: false),
                    timestamp = table.Column<long>(type: "INTEGER", nullable: false),
                    step = table.Column<long>(type: "INTEGER", nullable: false),
                    is_nan = table.Column<bool>(type: "INTEGER", nullable: false),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    experiment_id = table.Column<long>(type: "INTEGER", nullable: false),
                    dataset_name = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    dataset_digest = table.Column<string>(type: "TEXT", maxLength: 36, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_logged_model_metrics", x => new { x.model_id, x.key, x.step, x.timestamp, x.run_id, x.value, x.is_nan });
                    table.ForeignKey(
                        name: "FK_logged_model_metrics_logged_models_model_id",
                        column: x => x.model_id,
                        principalTable: "logged_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "logged_model_params",
                columns: table => new
                {
                    model_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 6000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_logged_model_params", x => new { x.model_id, x.key });
                    table.ForeignKey(
                        name: "FK_logged_model_params_logged_models_model_id",
                        column: x => x.model_id,
                        principalTable: "logged_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "logged_model_tags",
                columns: table => new
                {
                    model_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 8000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_logged_model_tags", x => new { x.model_id, x.key });
                    table.ForeignKey(
                        name: "FK_logged_model_tags_logged_models_model_id",
                        column: x => x.model_id,
                        principalTable: "logged_models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "inputs",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    dataset_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inputs", x => x.id);
                    table.ForeignKey(
                        name: "FK_inputs_datasets_dataset_id",
                        column: x => x.dataset_id,
                        principalTable: "datasets",
                        principalColumn: "id");
                    table.ForeignKey(
                        name: "FK_inputs_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "latest_metrics",
                columns: table => new
                {
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<double>(type: "REAL", nullable: false),
                    timestamp = table.Column<long>(type: "INTEGER", nullable: false),
                    step = table.Column<long>(type: "INTEGER", nullable: false),
                    is_nan = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_latest_metrics", x => new { x.run_id, x.key });
                    table.ForeignKey(
                        name: "FK_latest_metrics_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "metrics",
                columns: table => new
                {
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<double>(type: "REAL", nullable: false),
                    timestamp = table.Column<long>(type: "INTEGER", nullable: false),
                    step = table.Column<long>(type: "INTEGER", nullable: false),
                    is_nan = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_metrics", x => new { x.run_id, x.key, x.step, x.timestamp, x.value, x.is_nan });
                    table.ForeignKey(
                        name: "FK_metrics_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "params",
                columns: table => new
                {
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 6000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_params", x => new { x.run_id, x.key });
                    table.ForeignKey(
                        name: "FK_params_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_model_inputs",
                columns: table => new
                {
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    model_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_model_inputs", x => new { x.run_id, x.model_id });
                    table.ForeignKey(
                        name: "FK_run_model_inputs_logged_models_model_id",
                        column: x => x.model_id,
                        principalTable: "logged_models",
                        principalColumn: "id");
                    table.ForeignKey(
                        name: "FK_run_model_inputs_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_outputs",
                columns: table => new
                {
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    model_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    step = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_outputs", x => new { x.run_id, x.model_id, x.step });
                    table.ForeignKey(
                        name: "FK_run_outputs_logged_models_model_id",
                        column: x => x.model_id,
                        principalTable: "logged_models",
                        principalColumn: "id");
                    table.ForeignKey(
                        name: "FK_run_outputs_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "tags",
                columns: table => new
                {
                    run_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 8000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tags", x => new { x.run_id, x.key });
                    table.ForeignKey(
                        name: "FK_tags_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "input_tags",
                columns: table => new
                {
                    input_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_input_tags", x => new { x.input_id, x.key });
                    table.ForeignKey(
                        name: "FK_input_tags_inputs_input_id",
                        column: x => x.input_id,
                        principalTable: "inputs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_datasets_experiment_id_name_digest",
                table: "datasets",
                columns: new[] { "experiment_id", "name", "digest" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_experiments_name",
                table: "experiments",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_inputs_dataset_id",
                table: "inputs",
                column: "dataset_id");

            migrationBuilder.CreateIndex(
                name: "IX_inputs_run_id_dataset_id",
                table: "inputs",
                columns: new[] { "run_id", "dataset_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_latest_metrics_key_is_nan_value_run_id",
                table: "latest_metrics",
                columns: new[] { "key", "is_nan", "value", "run_id" });

            migrationBuilder.CreateIndex(
                name: "IX_logged_models_experiment_id_lifecycle_stage_creation_timestamp_ms",
                table: "logged_models",
                columns: new[] { "experiment_id", "lifecycle_stage", "creation_timestamp_ms" });

            migrationBuilder.CreateIndex(
                name: "IX_logged_models_experiment_id_name",
                table: "logged_models",
                columns: new[] { "experiment_id", "name" });

            migrationBuilder.CreateIndex(
                name: "IX_params_key_value_run_id",
                table: "params",
                columns: new[] { "key", "value", "run_id" });

            migrationBuilder.CreateIndex(
                name: "IX_run_model_inputs_model_id",
                table: "run_model_inputs",
                column: "model_id");

            migrationBuilder.CreateIndex(
                name: "IX_run_outputs_model_id",
                table: "run_outputs",
                column: "model_id");

            migrationBuilder.CreateIndex(
                name: "IX_runs_experiment_id_lifecycle_stage_start_time_id",
                table: "runs",
                columns: new[] { "experiment_id", "lifecycle_stage", "start_time", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_tags_key_value_run_id",
                table: "tags",
                columns: new[] { "key", "value", "run_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "experiment_tags");

            migrationBuilder.DropTable(
                name: "input_tags");

            migrationBuilder.DropTable(
                name: "latest_metrics");

            migrationBuilder.DropTable(
                name: "logged_model_metrics");

            migrationBuilder.DropTable(
                name: "logged_model_params");

            migrationBuilder.DropTable(
                name: "logged_model_tags");

            migrationBuilder.DropTable(
                name: "metrics");

            migrationBuilder.DropTable(
                name: "params");

            migrationBuilder.DropTable(
                name: "run_model_inputs");

            migrationBuilder.DropTable(
                name: "run_outputs");

            migrationBuilder.DropTable(
                name: "tags");

            migrationBuilder.DropTable(
                name: "inputs");

            migrationBuilder.DropTable(
                name: "logged_models");

            migrationBuilder.DropTable(
                name: "datasets");

            migrationBuilder.DropTable(
                name: "runs");

            migrationBuilder.DropTable(
                name: "experiments");
        }
    }
}
