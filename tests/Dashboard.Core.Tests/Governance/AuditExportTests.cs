using System.Text;
using System.Text.Json;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Security;
using static Dashboard.Core.Tests.Governance.AuditTestBed;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// Audit exports: CSV as RFC 4180 with formula injection defused, JSON as one array, both streamed in batches with the
/// search's filters and visibility, and capped (the export says when the cap cut it).
/// </summary>
public class AuditExportTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "\"'\rcmd\"")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("two\r\nlines", "\"two\r\nlines\"")]
    [InlineData("a=b", "a=b")]
    public void A_csv_cell_is_quoted_as_rfc_4180_says_and_never_starts_a_formula(string? value, string cell) =>
        AuditExportWriter.CsvCell(value).ShouldBe(cell);

    /// <summary>An RFC 4180 reader, so that the test reads the file as a spreadsheet would.</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                cell.Append(c);
            }
        }
        quoted.ShouldBeFalse();
        cell.Length.ShouldBe(0);
        return rows;
    }

    private static async Task<string> CsvAsync(AuditExport export)
    {
        using var stream = new MemoryStream();
        await AuditExportWriter.WriteCsvAsync(export.Rows, stream, Ct);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_csv_export_holds_every_selected_event_with_hostile_text_intact_and_defused(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        await bed.AddEventsAsync(db =>
        {
            AuditLog.Add(db, 1000, "=cmd|' /C calc'!A0", AuditActions.ModelUpdated, AuditTargets.RegisteredModel, "m,1",
                new { description = "line one\nline \"two\"" }, new { description = "@x" }, reason: "-why");
            AuditLog.Add(db, 2000, "bob", AuditActions.ModelUpdated, AuditTargets.RegisteredModel, "<b>bold</b>");
            AuditLog.Add(db, 3000, "carol", AuditActions.TokenCreated, AuditTargets.AccessToken, "9 ci");
        });

        var export = await bed.Audit.ExportAsync(new AuditQuery(Action: "registered_model."), Admin, Ct);
        var rows = ParseCsv(await CsvAsync(export));

        export.Truncated.ShouldBeFalse();
        rows[0].ShouldBe(AuditExportWriter.CsvColumns);
        rows.Count.ShouldBe(3);
        rows.ShouldAllBe(r => r.Count == AuditExportWriter.CsvColumns.Count);
        rows[1][3].ShouldBe("bob");
        rows[1][6].ShouldBe("<b>bold</b>");
        rows[2][1].ShouldBe("1970-01-01T00:00:01.000Z");
        rows[2][2].ShouldBe("1000");
        rows[2][3].ShouldBe("'=cmd|' /C calc'!A0");
        rows[2][6].ShouldBe("m,1");
        rows[2][10].ShouldBe("'-why");
        JsonDocument.Parse(rows[2][11]).RootElement.GetProperty("description").GetString().ShouldBe("line one\nline \"two\"");
        rows[2][12].ShouldBe("{\"description\":\"@x\"}");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task An_export_streams_in_batches_stops_at_its_cap_and_says_so(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        await bed.AddEventsAsync(db =>
        {
            for (var i = 0; i < 7; i++)
            {
                AuditLog.Add(db, 1000 + i, "sam", AuditActions.ModelTagSet, AuditTargets.RegisteredModel, $"m{i}");
            }
        });
        var capped = new AuditService(bed.Factory, bed.Permissions) { ExportLimit = 5, ExportBatch = 2 };
        var whole = new AuditService(bed.Factory, bed.Permissions) { ExportLimit = 7, ExportBatch = 2 };

        var cut = await capped.ExportAsync(new AuditQuery(), Admin, Ct);
        var all = await whole.ExportAsync(new AuditQuery(), Admin, Ct);
        // Written after the export began: not part of it.
        await bed.AddEventsAsync(db => AuditLog.Add(db, 9000, "sam", AuditActions.ModelTagSet, AuditTargets.RegisteredModel, "late"));

        cut.Truncated.ShouldBeTrue();
        cut.Limit.ShouldBe(5);
        var cutRows = ParseCsv(await CsvAsync(cut)).Skip(1).Select(r => r[6]).ToList();
        cutRows.ShouldBe(["m6", "m5", "m4", "m3", "m2"]);
        all.Truncated.ShouldBeFalse();
        (await CsvAsync(all)).ShouldNotContain("late");
        ParseCsv(await CsvAsync(all)).Count.ShouldBe(8);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_json_export_is_one_array_of_events_with_their_states_and_only_what_the_caller_may_see(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud");
        await bed.AddEventsAsync(db =>
        {
            AuditLog.Add(db, 2000, "ada", AuditActions.TokenCreated, AuditTargets.AccessToken, "1 ci");
            AuditLog.Add(db, 3000, "ada", AuditActions.ModelUpdated, AuditTargets.RegisteredModel, "fraud",
                new { description = "old" }, new { description = "new" }, model, "fraud");
        });

        using var stream = new MemoryStream();
        var export = await bed.Audit.ExportAsync(new AuditQuery(), new Caller("cora", DashboardRole.Contributor), Ct);
        await AuditExportWriter.WriteJsonAsync(export.Rows, stream, Ct);
        var events = JsonDocument.Parse(stream.ToArray()).RootElement;

        events.ValueKind.ShouldBe(JsonValueKind.Array);
        events.GetArrayLength().ShouldBe(2);
        events.EnumerateArray().ShouldAllBe(e => e.GetProperty("model_name").GetString() == "fraud");
        var updated = events[0];
        updated.GetProperty("action").GetString().ShouldBe(AuditActions.ModelUpdated);
        updated.GetProperty("before").GetProperty("description").GetString().ShouldBe("old");
        updated.GetProperty("after").GetProperty("description").GetString().ShouldBe("new");
        updated.GetProperty("time").GetInt64().ShouldBe(3000);
        updated.GetProperty("target_type").GetString().ShouldBe(AuditTargets.RegisteredModel);
    }
}
