using FastRcnn.Analyzers;
using FastRcnn.Tools.ScalarAudit;

namespace FastRcnn.Tests.Analyzers;

/// <summary>The list embedded in the analyzer (FR0002) is the audit of the TorchSharp the projects reference.</summary>
public class ScalarUnsafeListTests
{
    private static string[] EmbeddedList()
    {
        using var stream = typeof(ScalarLifetimeAnalyzer).Assembly.GetManifestResourceStream("FastRcnn.Analyzers.ScalarUnsafeMethods.txt");
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void The_embedded_list_matches_a_fresh_audit_of_torchsharp()
    {
        // After a TorchSharp upgrade: dotnet run --project tools/ScalarAudit -c Release -- src/FastRcnn.Analyzers/ScalarUnsafeMethods.txt
        var fresh = ScalarAudit.Header.Concat(ScalarAudit.UnsafeMethods(typeof(TorchSharp.Scalar).Assembly)).ToArray();
        Assert.Equal(fresh, EmbeddedList());
    }

    [Theory]
    [InlineData("TorchSharp.torch+Tensor.add(Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.add_(Scalar)")]
    [InlineData("TorchSharp.torch+Tensor.op_Addition(Tensor,Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.op_Multiply(Double,Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.op_Subtraction(Scalar,Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.square()")]
    [InlineData("TorchSharp.torch+nn+functional.leaky_relu(Tensor,Double,Boolean)")]
    [InlineData("TorchSharp.Modules.BatchNorm.forward(Tensor)")]
    [InlineData("TorchSharp.TensorExtensionMethods.ToSingle(Tensor)")]
    public void Notable_unsafe_apis_are_listed(string signature) => Assert.Contains(signature, EmbeddedList());

    [Theory]
    [InlineData("TorchSharp.torch+Tensor.op_Subtraction(Tensor,Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.op_Multiply(Tensor,Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.op_Division(Tensor,Tensor)")]
    [InlineData("TorchSharp.torch+Tensor.add(Tensor,Scalar)")]
    [InlineData("TorchSharp.torch+Tensor.mul(Scalar)")]
    public void Apis_that_take_the_callers_scalar_are_not_listed(string signature) => Assert.DoesNotContain(signature, EmbeddedList());
}
