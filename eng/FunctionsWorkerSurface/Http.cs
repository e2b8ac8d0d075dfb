// Packages: Microsoft.Azure.Functions.Worker.Extensions.Http 3.3.0 (tag http-extension-3.3.0,
// extensions/Worker.Extensions.Http/src/) and Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore 2.1.1
// (tag http-aspnetcore-extension-2.1.1, extensions/Worker.Extensions.Http.AspNetCore/src/).
// With ASP.NET Core integration a trigger binds Microsoft.AspNetCore.Http.HttpRequest and returns IActionResult;
// those types come from the shared framework, not from here.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

// Source: extensions/Worker.Extensions.Http/src/AuthorizationLevel.cs
public enum AuthorizationLevel
{
    Anonymous = 0,
    User = 1,
    Function = 2,
    System = 3,
    Admin = 4,
}

// Source: extensions/Worker.Extensions.Http/src/HttpTriggerAttribute.cs (usage inherited: Parameter)
public sealed class HttpTriggerAttribute : TriggerBindingAttribute
{
    public HttpTriggerAttribute() => AuthLevel = AuthorizationLevel.Function;

    public HttpTriggerAttribute(params string[] methods) => Methods = methods;

    public HttpTriggerAttribute(AuthorizationLevel authLevel) => AuthLevel = authLevel;

    public HttpTriggerAttribute(AuthorizationLevel authLevel, params string[] methods)
    {
        AuthLevel = authLevel;
        Methods = methods;
    }

    public string? Route { get; set; }

    public string[]? Methods { get; private set; }

    public AuthorizationLevel AuthLevel { get; private set; }
}

// Source: extensions/Worker.Extensions.Http/src/HttpResultAttribute.cs
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class HttpResultAttribute : OutputBindingAttribute
{
}

// Source: extensions/Worker.Extensions.Http.AspNetCore/src/FunctionContext/FunctionContextExtensions.cs
public static class FunctionContextExtensions
{
    public static HttpContext? GetHttpContext(this FunctionContext context) => throw Surface.NotRunnable();
}
