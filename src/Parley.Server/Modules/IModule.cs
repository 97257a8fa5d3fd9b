namespace Parley.Server.Modules;

/// <summary>A feature of the server: it declares everything about itself in <see cref="Register"/>.</summary>
public interface IModule
{
    /// <summary>The module's name and XEPs.</summary>
    static abstract ModuleInfo Info { get; }

    /// <summary>Declares the module's features, handlers and hooks.</summary>
    void Register(ModuleBuilder m);
}
