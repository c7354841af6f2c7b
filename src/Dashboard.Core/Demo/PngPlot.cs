using System.Buffers.Binary;
using System.IO.Compression;

namespace Dashboard.Demo;

/// <summary>
/// A small line chart as a PNG file, drawn in code: the demo's runs carry a plot among their artifacts as training
/// scripts do (matplotlib's <c>savefig</c>), without an imaging package. Axes, a light grid and one polyline per
/// series scaled to the series' common range; NaN points are skipped.
/// </summary>
internal static class PngPlot
{
    private static readonly uint[] CrcTable = MakeCrcTable();

    /// <summary>Colors of the series in order (Plotly's first three), as RGB.</summary>
    private static readonly (byte R, byte G, byte B)[] Palette = [(31, 119, 180), (255, 127, 14), (44, 160, 44)];

    public static byte[] LineChart(IReadOnlyList<double[]> series, int width = 480, int height = 300)
    {
        var pixels = new byte[width * height * 3];
        Array.Fill(pixels, (byte)255);
        const int left = 40, right = 12, top = 12, bottom = 30;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        for (var i = 1; i < 5; i++)
        {
            var y = top + (plotH * i / 5);
            Line(pixels, width, height, left, y, left + plotW, y, (230, 230, 230));
        }
        Line(pixels, width, height, left, top, left, top + plotH, (90, 90, 90));
        Line(pixels, width, height, left, top + plotH, left + plotW, top + plotH, (90, 90, 90));

        var finite = series.SelectMany(s => s).Where(double.IsFinite).ToList();
        if (finite.Count > 0)
        {
            var (min, max) = (finite.Min(), finite.Max());
            var span = max - min < 1e-12 ? 1 : max - min;
            var length = Math.Max(2, series.Max(s => s.Length));
            for (var s = 0; s < series.Count; s++)
            {
                (int X, int Y)? previous = null;
                for (var i = 0; i < series[s].Length; i++)
                {
                    if (!double.IsFinite(series[s][i]))
                    {
                        previous = null;
                        continue;
                    }
                    var x = left + (int)Math.Round(plotW * i / (double)(length - 1));
                    var y = top + (int)Math.Round(plotH * (1 - ((series[s][i] - min) / span)));
                    if (previous is { } p)
                    {
                        Line(pixels, width, height, p.X, p.Y, x, y, Palette[s % Palette.Length]);
                        Line(pixels, width, height, p.X, p.Y + 1, x, y + 1, Palette[s % Palette.Length]);
                    }
                    previous = (x, y);
                }
            }
        }
        return Encode(pixels, width, height);
    }

    private static void Line(byte[] pixels, int width, int height, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) color)
    {
        // Bresenham: integer steps, no anti-aliasing; enough for a thumbnail of a curve.
        int dx = Math.Abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -Math.Abs(y1 - y0), sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            if (x0 >= 0 && x0 < width && y0 >= 0 && y0 < height)
            {
                var at = ((y0 * width) + x0) * 3;
                (pixels[at], pixels[at + 1], pixels[at + 2]) = color;
            }
            if (x0 == x1 && y0 == y1)
            {
                return;
            }
            var e2 = 2 * err;
            if (e2 >= dy)
            {
                err += dy;
                x0 += sx;
            }
            if (e2 <= dx)
            {
                err += dx;
                y0 += sy;
            }
        }
    }

    /// <summary>PNG: signature, IHDR (8-bit RGB), one zlib IDAT of filter-0 scanlines, IEND.</summary>
    private static byte[] Encode(byte[] rgb, int width, int height)
    {
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(rgb, y * width * 3, width * 3);
            }
        }
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 2;
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        var crc = Crc(Crc(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(four, crc);
        png.Write(four);
    }

    private static uint Crc(uint crc, byte[] data)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
