using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Data.Migrations.PostgreSql
{
    /// <summary>
    /// Statistics of the (key, value) pairs of params and tags, gathered by ANALYZE (autovacuum) with the tables' own.
    /// Without them the planner multiplies the selectivities of key = 'optimizer' and value = 'adam' as if they were
    /// independent and expects a tenth of the rows; search then takes a large set of runs for a small one and sorts
    /// it (docs/performance.md). PostgreSQL only: the other providers have no such statistics object.
    /// </summary>
    public partial class KeyValueStatistics : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("CREATE STATISTICS params_key_value (mcv) ON key, value FROM params;");
            migrationBuilder.Sql("CREATE STATISTICS tags_key_value (mcv) ON key, value FROM tags;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP STATISTICS IF EXISTS tags_key_value;");
            migrationBuilder.Sql("DROP STATISTICS IF EXISTS params_key_value;");
        }
    }
}
