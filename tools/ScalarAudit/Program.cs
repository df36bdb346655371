// Regenerates the list of TorchSharp APIs that create a Scalar without keeping it alive, which the
// FR0002 analyzer (src/FastRcnn.Analyzers) embeds:
//
//   dotnet run --project tools/ScalarAudit -c Release -- src/FastRcnn.Analyzers/ScalarUnsafeMethods.txt
//
// Without an argument the list goes to standard output. Run it after upgrading TorchSharp (the
// version comes from Directory.Packages.props); the test ScalarUnsafeListTests fails until the
// embedded list matches the referenced TorchSharp again.

using FastRcnn.Tools.ScalarAudit;

var lines = ScalarAudit.Header.Concat(ScalarAudit.UnsafeMethods(typeof(TorchSharp.Scalar).Assembly));
if (args.Length == 0)
{
    foreach (var line in lines) Console.WriteLine(line);
}
else
{
    File.WriteAllText(args[0], string.Join("\n", lines) + "\n");
    Console.WriteLine($"wrote {args[0]}");
}
