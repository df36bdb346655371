using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace FastRcnn.Analyzers;

/// <summary>
/// Reports TorchSharp Scalars that can be finalized while a native call reads them.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>Scalar</c> is a class owning a native pointer that its finalizer frees. A
/// Scalar passed to a tensor method is only read through its <c>Handle</c>, so once the handle is loaded
/// nothing keeps the managed object reachable: if another thread (data prefetch, parallel tests, a
/// progress renderer) triggers a GC during the native call, the finalizer thread can free the scalar
/// while libtorch reads it ("Unknown scalar type", "Expected false to be true ... Scalar.h").
/// A Scalar is safe only while something keeps it reachable: a <c>using</c> declaration or statement
/// (the Dispose at the end of the scope is a later use), or a static field.
/// <list type="bullet">
/// <item>FR0001: a Scalar created (a conversion to Scalar, implicit or explicit, or a TorchSharp
/// <c>ToScalar</c>) anywhere but as a <c>using</c> resource or a static field/property value.</item>
/// <item>FR0002: a call to a TorchSharp API that creates a Scalar internally without keeping it alive
/// (ScalarUnsafeMethods.txt, from tools/ScalarAudit), operators included.</item>
/// </list>
/// </remarks>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class ScalarLifetimeAnalyzer : DiagnosticAnalyzer
{
    public const string ScalarCreatedId = "FR0001";
    public const string UnsafeApiId = "FR0002";

    private const string Category = "Reliability";
    private const string Helpers = "FastRcnn.Ops.SafeScalars";

    public static readonly DiagnosticDescriptor ScalarCreated = new(
        ScalarCreatedId,
        title: "TorchSharp Scalar created without being kept alive",
        messageFormat: "{0} creates a TorchSharp Scalar that nothing keeps alive: the GC can finalize it while the native call reads it. "
            + "Create it as 'using var s = value.ToScalar();' (or in a using statement), cache it in a static readonly field, "
            + "or use a " + Helpers + " helper.",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "TorchSharp's Scalar frees its native value in a finalizer, and a native call that reads it does not keep the "
            + "managed object alive: a GC on another thread can free it mid-call (random 'Unknown scalar type' or "
            + "'Expected false to be true ... Scalar.h' errors). Only a using declaration/statement or a static field keeps a Scalar "
            + "reachable until the call returns; a plain local is not enough.");

    public static readonly DiagnosticDescriptor UnsafeApi = new(
        UnsafeApiId,
        title: "TorchSharp API creates a Scalar it does not keep alive",
        messageFormat: "'{0}' creates a TorchSharp Scalar internally without keeping it alive: the GC can finalize it while the native call reads it. Fix: {1}.",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The TorchSharp method converts a number to a temporary Scalar and passes only its handle to native code "
            + "(found by tools/ScalarAudit in TorchSharp.dll's IL). Call an overload that takes a Scalar and pass one kept alive by "
            + "a using declaration or a static field, or use a " + Helpers + " helper.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(ScalarCreated, UnsafeApi);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var scalar = start.Compilation.GetTypeByMetadataName(TorchSharpSymbols.ScalarTypeName);
            if (scalar is null || !TorchSharpSymbols.IsFromTorchSharp(scalar)) return;

            start.RegisterOperationAction(c => AnalyzeConversion(c, scalar), OperationKind.Conversion);
            start.RegisterOperationAction(c => AnalyzeInvocation(c, scalar), OperationKind.Invocation);
            start.RegisterOperationAction(AnalyzeOperator,
                OperationKind.Binary, OperationKind.Unary, OperationKind.CompoundAssignment, OperationKind.Increment, OperationKind.Decrement);
            start.RegisterOperationAction(AnalyzePropertyReference, OperationKind.PropertyReference);
            start.RegisterOperationAction(AnalyzeObjectCreation, OperationKind.ObjectCreation);
            start.RegisterOperationAction(AnalyzeMethodReference, OperationKind.MethodReference);
        });
    }

    private static void AnalyzeConversion(OperationAnalysisContext context, INamedTypeSymbol scalar)
    {
        var conversion = (IConversionOperation)context.Operation;
        if (conversion.OperatorMethod is not { } method) return;
        if (SymbolEqualityComparer.Default.Equals(method.ReturnType, scalar) && TorchSharpSymbols.IsFromTorchSharp(method))
        {
            var source = conversion.Operand.Type?.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) ?? "a value";
            ReportCreation(context, conversion, $"The conversion from '{source}'");
        }
        else
        {
            ReportIfUnsafe(context, method, conversion);
        }
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol scalar)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (SymbolEqualityComparer.Default.Equals(method.ReturnType, scalar) && TorchSharpSymbols.IsFromTorchSharp(method))
            ReportCreation(context, invocation, $"'{method.Name}()'");
        else
            ReportIfUnsafe(context, method, invocation);
    }

    private static void AnalyzeOperator(OperationAnalysisContext context)
    {
        var method = context.Operation switch
        {
            IBinaryOperation b => b.OperatorMethod,
            IUnaryOperation u => u.OperatorMethod,
            ICompoundAssignmentOperation c => c.OperatorMethod,
            IIncrementOrDecrementOperation i => i.OperatorMethod,
            _ => null,
        };
        if (method is not null) ReportIfUnsafe(context, method, context.Operation);
    }

    private static void AnalyzePropertyReference(OperationAnalysisContext context)
    {
        var property = ((IPropertyReferenceOperation)context.Operation).Property;
        foreach (var accessor in new[] { property.GetMethod, property.SetMethod })
        {
            if (accessor is not null && TorchSharpSymbols.IsUnsafe(accessor))
            {
                Report(context, context.Operation, property);
                return;
            }
        }
    }

    private static void AnalyzeObjectCreation(OperationAnalysisContext context)
    {
        if (((IObjectCreationOperation)context.Operation).Constructor is { } constructor)
            ReportIfUnsafe(context, constructor, context.Operation);
    }

    private static void AnalyzeMethodReference(OperationAnalysisContext context) =>
        ReportIfUnsafe(context, ((IMethodReferenceOperation)context.Operation).Method, context.Operation);

    private static void ReportIfUnsafe(OperationAnalysisContext context, IMethodSymbol method, IOperation operation)
    {
        if (TorchSharpSymbols.IsUnsafe(method)) Report(context, operation, method);
    }

    private static void Report(OperationAnalysisContext context, IOperation operation, ISymbol api)
    {
        var name = api.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        context.ReportDiagnostic(Diagnostic.Create(UnsafeApi, Location(operation), name, Hint(api)));
    }

    private static void ReportCreation(OperationAnalysisContext context, IOperation creation, string what)
    {
        if (ScalarKeptAlive.Holds(creation)) return;
        context.ReportDiagnostic(Diagnostic.Create(ScalarCreated, creation.Syntax.GetLocation(), what));
    }

    // An API diagnostic goes on the operator token or on the called name and its arguments, not on a
    // whole chain of calls, so that nested expressions stay readable.
    private static Location Location(IOperation operation) => operation.Syntax switch
    {
        BinaryExpressionSyntax binary => binary.OperatorToken.GetLocation(),
        AssignmentExpressionSyntax assignment => assignment.OperatorToken.GetLocation(),
        InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax member } invocation =>
            Microsoft.CodeAnalysis.Location.Create(invocation.SyntaxTree, TextSpan.FromBounds(member.Name.SpanStart, invocation.Span.End)),
        _ => operation.Syntax.GetLocation(),
    };

    private static string Hint(ISymbol api) => api.Name switch
    {
        "op_Addition" or "add" or "add_" =>
            "for tensor + tensor call a.add(b, alpha) with a kept-alive alpha (" + Helpers + ".One); for numbers use the " + Helpers + " helpers",
        "op_Subtraction" or "op_Multiply" or "op_Division" or "op_Modulus" =>
            "call sub/mul/div/remainder with a Scalar kept alive by a using declaration or a static field, or use the " + Helpers + " helpers",
        "square" => "use t.mul(t) (or pow with a kept-alive exponent)",
        "op_Explicit" or "ToSingle" or "ToDouble" or "ToInt32" or "ToInt64" or "ToBoolean" or "ToByte" or "ToInt16" or "ToSByte" or "ToHalf"
            or "ToBFloat16" or "ToComplex32" or "ToComplex64" or "ToComplexFloat32" or "ToComplexFloat64" =>
            "read the value with item<T>() (the tensor's own element type) or through 'using var s = t.ToScalar();'",
        _ => "call an overload that takes a Scalar, passing one kept alive by a using declaration or a static field",
    };
}
