using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace FastRcnn.Analyzers;

/// <summary>
/// Decides whether a newly created Scalar lands somewhere that keeps it reachable until the native calls
/// that read it have returned: a <c>using</c> declaration or statement resource, or a static field or
/// property (directly or as an element of an array stored there).
/// </summary>
internal static class ScalarKeptAlive
{
    public static bool Holds(IOperation creation)
    {
        var (value, inArray) = Destination(creation);
        var parent = value.Parent;
        return parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } when !inArray => IsUsingDeclarator(declarator),
            IUsingOperation @using => !inArray && @using.Resources == value,
            IFieldInitializerOperation field => field.InitializedFields.All(f => f.IsStatic),
            IPropertyInitializerOperation property => property.InitializedProperties.All(p => p.IsStatic),
            ISimpleAssignmentOperation assignment => assignment.Value == value && IsStaticMember(assignment.Target),
            ICoalesceAssignmentOperation assignment => assignment.Value == value && IsStaticMember(assignment.Target),
            _ => false,
        };
    }

    // Climbs from the creation to the value that is stored: through reference conversions, the arms of
    // ?: / ?? / switch expressions, and array initializers or collection expressions (the collection
    // then holds the Scalar).
    private static (IOperation Value, bool InArray) Destination(IOperation creation)
    {
        var current = creation;
        bool inArray = false;
        while (current.Parent is { } parent)
        {
            switch (parent)
            {
                case IConversionOperation { OperatorMethod: null }:
                case IConditionalOperation conditional when conditional.Condition != current:
                case ICoalesceOperation:
                case ISwitchExpressionArmOperation arm when arm.Value == current:
                case ISwitchExpressionOperation switchExpression when switchExpression.Value != current:
                    break;
                case IArrayInitializerOperation:
                case IArrayCreationOperation creationOfArray when creationOfArray.Initializer == current:
                case ICollectionExpressionOperation:
                    inArray = true;
                    break;
                default:
                    return (current, inArray);
            }
            current = parent;
        }
        return (current, inArray);
    }

    // using var s = …;  or  using (var s = …) { … }
    private static bool IsUsingDeclarator(IVariableDeclaratorOperation declarator) =>
        declarator.Parent is IVariableDeclarationOperation { Parent: IVariableDeclarationGroupOperation group }
        && (group.Parent is IUsingDeclarationOperation || (group.Parent is IUsingOperation @using && @using.Resources == group));

    private static bool IsStaticMember(IOperation target) => target switch
    {
        IFieldReferenceOperation field => field.Field.IsStatic,
        IPropertyReferenceOperation property => property.Property.IsStatic,
        _ => false,
    };
}
