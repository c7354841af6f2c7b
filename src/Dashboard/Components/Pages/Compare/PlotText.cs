namespace Dashboard.Components.Pages.Compare;

/// <summary>
/// Plotly reads a few HTML tags (&lt;b&gt;, &lt;br&gt;, &lt;a href&gt;) and entities in trace names, labels and hover
/// text; names and values come from training scripts and must show as typed, so &amp; and &lt; &gt; become entities,
/// which Plotly turns back into the characters.
/// </summary>
public static class PlotText
{
    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
