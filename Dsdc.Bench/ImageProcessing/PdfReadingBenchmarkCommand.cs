using System.Diagnostics;
using System.Text;
using Dsdc.Ingestion;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.ImageProcessing;

/// <summary>
/// <c>bench-pdf DIR [--repeats N] [--drawing-bomb OPERATORS]</c>: what reading a PDF costs before any page is drawn, as
/// inspection and OCR read it (<see cref="PdfPages"/>): counting and measuring its pages, then its text layer, for every
/// PDF under DIR and, with <c>--drawing-bomb</c>, for a page whose content stream inflates to that many drawing
/// operators (<see cref="DrawingBombPdf"/>). Reports the time of each and the bytes this whole process allocated for both
/// (mutool's own memory is its process's: measure it with <c>/usr/bin/time -f %M mutool ...</c>).
/// </summary>
internal sealed class PdfReadingBenchmarkCommand(PdfPages pdf) : ICliCommand
{
    public string Name => "bench-pdf";
    public string Usage => "DIR [--repeats N] [--drawing-bomb OPERATORS]  time and memory to list a PDF's pages and read its text layer";

    public Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args.Count == 0 || !Directory.Exists(args[0]))
        {
            Console.Error.WriteLine("bench-pdf: give a folder holding PDFs (searched recursively)");
            return Task.FromResult(2);
        }
        var cli = new Training.CliArgs(args);
        var repeats = cli.Int("--repeats") ?? 5;
        var files = Directory.EnumerateFiles(args[0], "*.pdf", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        using var scratch = new TempFolder();
        if (cli.Int("--drawing-bomb") is { } operators)
        {
            var bomb = Path.Combine(scratch.Path, $"drawing-bomb-{operators}.pdf");
            File.WriteAllBytes(bomb, DrawingBombPdf(operators));
            files.Add(bomb);
        }
        Console.WriteLine($"# bench-pdf: {files.Count} PDFs, {repeats} runs each after one to warm up, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine("file | bytes | pages | pages listed, ms (median) | text read, ms (median) | characters | allocated here, KB");
        foreach (var file in files)
        {
            var list = new List<double>();
            var text = new List<double>();
            int pages = 0, characters = 0;
            long allocated = 0;
            for (var run = 0; run <= repeats; run++)
            {
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var watch = Stopwatch.StartNew();
                var sizes = pdf.Sizes(file, ct);
                var listed = watch.Elapsed.TotalMilliseconds;
                var (texts, _) = pdf.Texts(file, sizes.Count, ct);
                var read = watch.Elapsed.TotalMilliseconds - listed;
                if (run == 0) continue;
                list.Add(listed);
                text.Add(read);
                pages = sizes.Count;
                characters = texts.Sum(t => t.Length);
                allocated = GC.GetTotalAllocatedBytes(precise: true) - before; // the output is read on another thread
            }
            Console.WriteLine($"{Path.GetFileName(file)} | {new FileInfo(file).Length:N0} | {pages} | {Median(list):F0} | {Median(text):F0} | {characters:N0} | " +
                $"{allocated / 1024:N0}");
        }
        Console.WriteLine($"this process's peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024):N0} MB");
        return Task.FromResult(0);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    /// <summary>
    /// A valid one-page PDF whose content stream is <paramref name="operators"/> text operators (27 bytes each: 2,000,000
    /// are 54 MB of drawing) compressed to about 70 bytes per thousand, each word a thousandth of a point below the last. A
    /// parser that holds a page's operators in memory takes gigabytes for it.
    /// </summary>
    public static byte[] DrawingBombPdf(int operators)
    {
        var content = new MemoryStream();
        using (var deflate = new System.IO.Compression.ZLibStream(content, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            deflate.Write("BT /F1 12 Tf 72 720 Td "u8);
            var word = "0 -0.001 Td (Hello world) Tj "u8.ToArray();
            for (var i = 0; i < operators; i++) deflate.Write(word);
            deflate.Write("ET"u8);
        }
        var pdf = new MemoryStream();
        var offsets = new List<long>();
        void Write(string text) => pdf.Write(Encoding.ASCII.GetBytes(text));
        void Obj(string body) { offsets.Add(pdf.Length); Write($"{offsets.Count} 0 obj\n{body}\nendobj\n"); }
        Write("%PDF-1.4\n");
        Obj("<< /Type /Catalog /Pages 2 0 R >>");
        Obj("<< /Type /Pages /Count 1 /Kids [3 0 R] >>");
        Obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " +
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>");
        offsets.Add(pdf.Length);
        Write($"4 0 obj\n<< /Length {content.Length} /Filter /FlateDecode >>\nstream\n");
        content.Position = 0;
        content.CopyTo(pdf);
        Write("\nendstream\nendobj\n");
        var xref = pdf.Length;
        Write($"xref\n0 {offsets.Count + 1}\n0000000000 65535 f \n");
        foreach (var o in offsets) Write($"{o:D10} 00000 n \n");
        Write($"trailer\n<< /Size {offsets.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return pdf.ToArray();
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("dsdc-bench-pdf-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
