using System.Reflection;
using System.Text;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// Renders a type's public API to comparable one-line strings: the header (kind, base, attribute usage) and each
/// public constructor, property, method and enum value declared on the type itself.
/// </summary>
internal static class WorkerSdkShape
{
    private static readonly NullabilityInfoContext Nullability = new();

    public static string Header(Type type)
    {
        var kind = type switch
        {
            { IsInterface: true } => "interface",
            { IsEnum: true } => "enum",
            { IsAbstract: true, IsSealed: true } => "static class",
            { IsAbstract: true } => "abstract class",
            { IsSealed: true } when typeof(Delegate).IsAssignableFrom(type) => "delegate",
            { IsSealed: true } => "sealed class",
            _ => "class",
        };
        var header = new StringBuilder($"{kind} {type.FullName}");
        if (type is { IsClass: true, BaseType: { } baseType } && baseType != typeof(object) && kind != "delegate")
        {
            header.Append(" : ").Append(baseType.FullName);
        }

        if (typeof(Attribute).IsAssignableFrom(type))
        {
            var usage = type.GetCustomAttribute<AttributeUsageAttribute>(inherit: true)!;
            header.Append(" [usage: ").Append(usage.ValidOn).Append(usage.AllowMultiple ? ", multiple" : string.Empty).Append(']');
        }

        return header.ToString();
    }

    public static IReadOnlyList<string> Interfaces(Type type) =>
        [.. type.GetInterfaces().Select(i => i.FullName ?? i.Name).Order(StringComparer.Ordinal)];

    public static IReadOnlyList<string> Members(Type type)
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var members = new List<string>();
        if (type.IsEnum)
        {
            members.AddRange(type.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}"));
            return members;
        }

        if (typeof(Delegate).IsAssignableFrom(type))
        {
            var invoke = type.GetMethod("Invoke")!;
            members.Add($"{Format(invoke.ReturnParameter)} Invoke({Parameters(invoke)})");
            return members;
        }

        members.AddRange(type.GetConstructors(declared).Select(c => $".ctor({Parameters(c)})"));
        foreach (var p in type.GetProperties(declared))
        {
            var getter = p.GetMethod is { IsPublic: true } g ? g : null;
            var setter = p.SetMethod is { IsPublic: true } s ? s : null;
            if (getter is null && setter is null)
            {
                continue;
            }

            var accessor = (getter ?? setter)!;
            var accessors = (getter is null ? string.Empty : "get; ") + (setter is null ? string.Empty : "set; ");
            members.Add($"{Modifiers(accessor, type)}{Format(Nullability.Create(p))} {p.Name} {{ {accessors}}}");
        }

        foreach (var m in type.GetMethods(declared).Where(m => !m.IsSpecialName))
        {
            var generic = m.IsGenericMethodDefinition ? $"<{string.Join(", ", m.GetGenericArguments().Select(a => a.Name))}>" : string.Empty;
            members.Add($"{Modifiers(m, type)}{Format(m.ReturnParameter)} {m.Name}{generic}({Parameters(m)})");
        }

        return members;
    }

    private static string Modifiers(MethodInfo method, Type declaring) => method switch
    {
        { IsStatic: true } => "static ",
        _ when declaring.IsInterface => string.Empty,
        { IsAbstract: true } => "abstract ",
        { IsVirtual: true, IsFinal: false } => "virtual ",
        _ => string.Empty,
    };

    private static string Parameters(MethodBase method) => string.Join(", ", method.GetParameters().Select(p =>
    {
        var prefix = p.GetCustomAttribute<ParamArrayAttribute>() is null ? string.Empty : "params ";
        var optional = p.HasDefaultValue ? $" = {p.DefaultValue ?? "null"}" : string.Empty;
        return $"{prefix}{Format(p)} {p.Name}{optional}";
    }));

    private static string Format(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(void) ? "void" : Format(Nullability.Create(parameter));

    private static string Format(NullabilityInfo info)
    {
        var type = info.Type;
        string name;
        if (type.IsArray)
        {
            name = Format(info.ElementType!) + "[]";
        }
        else if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return underlying.Name + "?";
        }
        else if (type.IsGenericType)
        {
            var arguments = info.GenericTypeArguments.Length == type.GetGenericArguments().Length
                ? info.GenericTypeArguments.Select(Format)
                : type.GetGenericArguments().Select(a => a.Name);
            name = $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", arguments)}>";
        }
        else
        {
            name = type.Name;
        }

        // Generic parameters are left bare: reflection reports unconstrained T as nullable whether or not it is annotated.
        return info.ReadState == NullabilityState.Nullable && !type.IsValueType && !type.IsGenericParameter ? name + "?" : name;
    }
}
