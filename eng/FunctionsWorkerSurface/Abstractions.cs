// Source: extensions/Worker.Extensions.Abstractions/src/FunctionAttribute.cs (Extensions.Abstractions 1.3.0).
namespace Microsoft.Azure.Functions.Worker;

[AttributeUsage(AttributeTargets.Method)]
public class FunctionAttribute : Attribute
{
    public FunctionAttribute(string name) => Name = name;

    public string Name { get; }
}
