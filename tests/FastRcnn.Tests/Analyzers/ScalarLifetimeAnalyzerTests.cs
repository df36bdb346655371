using System.Collections.Immutable;
using FastRcnn.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastRcnn.Tests.Analyzers;

/// <summary>
/// FR0001/FR0002 on small snippets compiled against the real TorchSharp: each snippet is the body of a
/// class, with <c>using TorchSharp; using static TorchSharp.torch;</c> in scope.
/// </summary>
public class ScalarLifetimeAnalyzerTests
{
    private const string Prologue = """
        using System;
        using TorchSharp;
        using static TorchSharp.torch;

        public class Snippet
        {

        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // The framework (the test host's trusted assemblies) and TorchSharp itself.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(TorchSharp.Scalar).Assembly.Location)
            .Where(p => p.Length > 0)
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase);
        return [.. paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    /// <summary>The snippet's full source and the analyzer's diagnostics on it (the snippet must compile).</summary>
    private static async Task<(string Source, ImmutableArray<Diagnostic> Diagnostics)> Analyze(string members, bool withTorchSharp = true)
    {
        var source = Prologue + members + "\n}\n";
        var references = withTorchSharp
            ? References.Value
            : [.. References.Value.Where(r => !Path.GetFileName(r.Display!).StartsWith("TorchSharp", StringComparison.Ordinal))];
        var compilation = CSharpCompilation.Create("Snippet", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        if (withTorchSharp)
        {
            var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, "the snippet does not compile: " + string.Join("; ", errors));
        }
        return (source, await compilation.WithAnalyzers([new ScalarLifetimeAnalyzer()]).GetAnalyzerDiagnosticsAsync());
    }

    /// <summary>"FR0001@line" (lines of the snippet, 1-based), in source order.</summary>
    private static async Task<string[]> Diagnostics(string members, bool withTorchSharp = true)
    {
        int prologueLines = Prologue.Count(c => c == '\n');
        return [.. (await Analyze(members, withTorchSharp)).Diagnostics.OrderBy(d => d.Location.SourceSpan.Start)
            .Select(d => $"{d.Id}@{d.Location.GetLineSpan().StartLinePosition.Line - prologueLines + 1}")];
    }

    [Fact]
    public void Descriptors_are_errors_with_the_documented_ids()
    {
        var analyzer = new ScalarLifetimeAnalyzer();
        Assert.Equal(["FR0001", "FR0002"], analyzer.SupportedDiagnostics.Select(d => d.Id));
        Assert.All(analyzer.SupportedDiagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity));
        Assert.All(analyzer.SupportedDiagnostics, d => Assert.Contains("using declaration", d.Description.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Tensor F(Tensor t) => t.mul(2.0.ToScalar());")]                                  // ToScalar as an argument
    [InlineData("Tensor F(Tensor t) => t.mul((Scalar)1.5);")]                                     // explicit conversion
    [InlineData("Tensor F(Tensor t) => t.ge(0.5);")]                                              // implicit conversion
    [InlineData("Tensor F(Tensor t) { Scalar s = 0.5; return t.mul(s); }")]                       // a plain local
    [InlineData("Tensor F(Tensor t) { var s = 0.5.ToScalar(); return t.mul(s); }")]
    [InlineData("private readonly Scalar _half = 0.5.ToScalar();")]                              // an instance field
    [InlineData("private static Scalar Half => 0.5.ToScalar();")]                                // a new one per read
    [InlineData("private static readonly Func<Scalar> Make = () => 1.ToScalar();")]             // created in a lambda
    [InlineData("double F(Tensor t) => t.ToScalar().ToDouble();")]                               // Tensor.ToScalar
    [InlineData("Scalar F(float v) => v.ToBFloat16Scalar();")]
    [InlineData("static Scalar? s_cache; void F() { s_cache = 1; Scalar local; local = 2; }")]  // the static is kept, the local not
    public async Task FR0001_fires_on_scalars_nothing_keeps_alive(string members)
    {
        var found = await Diagnostics(members);
        Assert.Contains("FR0001@1", found);
        Assert.Single(found, d => d.StartsWith("FR0001", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FR0001_fires_once_per_conversion()
    {
        Assert.Equal(["FR0001@1", "FR0001@1"], await Diagnostics("Tensor F(Tensor t) => t.clamp(0, 255);"));
    }

    [Theory]
    [InlineData("Tensor F(Tensor t) { using var s = 0.5.ToScalar(); return t.mul(s); }")]
    [InlineData("Tensor F(Tensor t) { using Scalar s = 0.5; return t.mul(s); }")]
    [InlineData("Tensor F(Tensor t) { using Scalar lo = 0, hi = 255.ToScalar(); return t.clamp(lo, hi); }")]
    [InlineData("Tensor F(Tensor t) { using (var s = (Scalar)2) { return t.mul(s); } }")]
    [InlineData("Tensor F(Tensor t, bool b) { using var s = b ? 1.ToScalar() : 2.5.ToScalar(); return t.mul(s); }")]
    [InlineData("Tensor F(Tensor t, int k) { using var s = k switch { 0 => 1.ToScalar(), _ => 2.ToScalar() }; return t.mul(s); }")]
    [InlineData("Tensor F(Tensor t) { using var s = t.sum().ToScalar(); return t.mul(s); }")]
    [InlineData("private static readonly Scalar Half = 0.5.ToScalar();")]
    [InlineData("private static readonly Scalar Two = 2;")]
    [InlineData("private static Scalar Three { get; } = 3;")]
    [InlineData("private static readonly Scalar[] Table = [1, 2.5.ToScalar()];")]
    [InlineData("private static Scalar? s_cache; static Snippet() { s_cache = 4.ToScalar(); }")]
    [InlineData("private static Scalar? s_cache; Scalar Get() => s_cache ??= 5.ToScalar();")]
    [InlineData("Tensor F(Tensor a, Tensor b) => a - b * b / b;")]                              // no Scalar at all
    [InlineData("static Tensor Scale(Tensor t, Scalar? by = null) => by is null ? t : t.mul(by); Tensor F(Tensor t) => Scale(t);")]
    public async Task FR0001_is_silent_when_a_using_or_a_static_keeps_the_scalar(string members)
    {
        Assert.Empty(await Diagnostics(members));
    }

    [Theory]
    [InlineData("Tensor F(Tensor a, Tensor b) => a + b;")]
    [InlineData("Tensor F(Tensor t) => t * 0.5;")]
    [InlineData("Tensor F(Tensor t) => 0.5f * t;")]
    [InlineData("Tensor F(Tensor t) => 1 - t;")]
    [InlineData("Tensor F(Tensor t) => t / 2L;")]
    [InlineData("Tensor F(Tensor t) => t % 3;")]
    [InlineData("Tensor F(Tensor t) => t - 1.0;")]
    [InlineData("void F(Tensor t, Tensor u) { t += u; }")]
    [InlineData("Tensor F(Tensor a, Tensor b) => a.add(b);")]
    [InlineData("Tensor F(Tensor a, Tensor b) => a.add_(b);")]
    [InlineData("Tensor F(Tensor a, Tensor b) => add(a, b);")]
    [InlineData("Tensor F(Tensor t) => t.square();")]
    [InlineData("Tensor F(Tensor t) => square(t);")]
    [InlineData("Tensor F(Tensor t) => nn.functional.leaky_relu(t);")]
    [InlineData("Tensor F(Tensor t) => linalg.vector_norm(t);")]
    [InlineData("float F(Tensor t) => (float)t;")]
    [InlineData("float F(Tensor t) => t.ToSingle();")]
    [InlineData("string F(Tensor t) => t.str();")]
    [InlineData("Tensor F(Tensor t) => nn.BatchNorm2d(3).forward(t);")]                          // inherited BatchNorm.forward
    [InlineData("Tensor F(Tensor m, Tensor s) => distributions.Normal(m, s).variance;")]         // a property
    [InlineData("Func<Tensor, Tensor> F() => square;")]                                         // a method group
    public async Task FR0002_fires_on_torchsharp_apis_that_create_scalars(string members)
    {
        Assert.Equal(["FR0002@1"], (await Diagnostics(members)).Where(d => d.StartsWith("FR0002", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Tensor F(Tensor a, Tensor b) => a - b;")]
    [InlineData("Tensor F(Tensor a, Tensor b) => a * b;")]
    [InlineData("Tensor F(Tensor a, Tensor b) => a / b;")]
    [InlineData("Tensor F(Tensor t) => -t;")]
    [InlineData("private static readonly Scalar One = 1; Tensor F(Tensor a, Tensor b) => a.add(b, One);")]
    [InlineData("private static readonly Scalar One = 1; Tensor F(Tensor a, Tensor b) => a.add_(b, alpha: One);")]
    [InlineData("Tensor F(Tensor t) { using var s = 0.5.ToScalar(); return t.mul(s).sub(s).div(s).clamp_max(s); }")]
    [InlineData("Tensor F(Tensor t) { using var s = 0.5.ToScalar(); return t * s; }")]
    [InlineData("Tensor F(Tensor t) => nn.functional.relu(t);")]
    [InlineData("float F(Tensor t) => t.item<float>();")]
    [InlineData("string F(Tensor t) => t.ToString();")]
    public async Task FR0002_is_silent_on_apis_that_keep_their_scalars(string members)
    {
        Assert.Empty(await Diagnostics(members));
    }

    [Theory]
    [InlineData("Tensor F(Tensor a, Tensor b, Tensor c) => a - b + c;", "+")]
    [InlineData("Tensor F(Tensor a, Tensor b) => a.abs().add(b).neg();", "add(b)")]
    [InlineData("Tensor F(Tensor a) => a.mul(2.5.ToScalar());", "2.5.ToScalar()")]
    [InlineData("Tensor F(Tensor a) => a.clamp_min(0);", "0")]
    public async Task Diagnostics_point_at_the_operator_call_or_conversion(string members, string marked)
    {
        var (source, diagnostics) = await Analyze(members);
        var span = Assert.Single(diagnostics).Location.SourceSpan;
        Assert.Equal(marked, source.Substring(span.Start, span.Length));
    }

    [Fact]
    public async Task The_message_says_how_to_add_two_tensors()
    {
        var diagnostic = Assert.Single((await Analyze("Tensor F(Tensor a, Tensor b) => a + b;")).Diagnostics);
        Assert.Contains("a.add(b, alpha)", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_without_torchsharp_is_left_alone()
    {
        Assert.Empty(await Diagnostics("class Scalar { public static implicit operator Scalar(int v) => new(); } Scalar F() => 1;",
            withTorchSharp: false));
    }
}
