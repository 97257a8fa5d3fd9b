using Parley.Server.Components;
using Parley.Server.Modules.Admin;
using Parley.Server.Modules.Bind;
using Parley.Server.Modules.Blocking;
using Parley.Server.Modules.Carbons;
using Parley.Server.Modules.Csi;
using Parley.Server.Modules.Disco;
using Parley.Server.Modules.ExternalServices;
using Parley.Server.Modules.LastActivity;
using Parley.Server.Modules.Mam;
using Parley.Server.Modules.Muc;
using Parley.Server.Modules.PrivateXml;
using Parley.Server.Modules.Time;
using Parley.Server.Modules.VCard;
using Parley.Server.Modules.Version;
using Parley.Server.Modules.Offline;
using Parley.Server.Modules.Pep;
using Parley.Server.Modules.Ping;
using Parley.Server.Modules.Presence;
using Parley.Server.Modules.PubSub;
using Parley.Server.Modules.Push;
using Parley.Server.Modules.Register;
using Parley.Server.Modules.Roster;
using Parley.Server.Modules.Sasl;
using Parley.Server.Modules.Session;
using Parley.Server.Modules.StreamManagement;
using Parley.Server.Modules.Subscriptions;
using Parley.Server.Modules.Tls;
using Parley.Server.Modules.Upload;

namespace Parley.Server.Modules;

/// <summary>Every module of the server, one line each. Required ones are always on.</summary>
public static class ModuleCatalog
{
    /// <summary>The catalog, in registration order.</summary>
    public static IReadOnlyList<ModuleEntry> All { get; } =
    [
        ModuleEntry.Of<TlsModule>(),
        ModuleEntry.Of<SaslModule>(),
        ModuleEntry.Of<BindModule>(),
        ModuleEntry.Of<SessionModule>(),
        ModuleEntry.Of<StreamManagementModule>(),
        ModuleEntry.Of<PingModule>(),
        ModuleEntry.Of<RosterModule>(),
        ModuleEntry.Of<DiscoModule>(),
        ModuleEntry.Of<VersionModule>(),
        ModuleEntry.Of<TimeModule>(),
        ModuleEntry.Of<PrivateXmlModule>(),
        ModuleEntry.Of<VCardModule>(),
        ModuleEntry.Of<BlockingModule>(),
        ModuleEntry.Of<PresenceModule>(),
        ModuleEntry.Of<SubscriptionModule>(),
        ModuleEntry.Of<OfflineModule>(),
        ModuleEntry.Of<CarbonsModule>(),
        ModuleEntry.Of<MamModule>(),
        ModuleEntry.Of<CsiModule>(),
        ModuleEntry.Of<ExternalServicesModule>(),
        ModuleEntry.Of<UploadModule>(),
        ModuleEntry.Of<PepModule>(),
        ModuleEntry.Of<PushModule>(),
        ModuleEntry.Of<PubSubServiceModule>(),
        ModuleEntry.Of<MucModule>(),
        ModuleEntry.Of<ComponentsModule>(),
        ModuleEntry.Of<LastActivityModule>(),
        ModuleEntry.Of<RegisterModule>(),
        ModuleEntry.Of<AdminCommandsModule>(),
    ];
}

/// <summary>A catalog line: a module type and its info.</summary>
public sealed record ModuleEntry(Type Type, ModuleInfo Info)
{
    /// <summary>The entry of a module type.</summary>
    public static ModuleEntry Of<T>() where T : class, IModule => new(typeof(T), T.Info);
}
