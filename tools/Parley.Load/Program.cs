using Parley.Load;
using Parley.Load.Scenarios;

// parley-load: a load generator for XMPP servers on this machine (see LoadOptions.Usage).
if (!LoadOptions.TryParse(args, out var o, out var error))
{
    Console.Error.WriteLine(error);
    return 2;
}
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var report = new Report(o);
var code = o.Scenario switch
{
    "register" => await RegisterScenario.RunAsync(o, report, cts.Token),
    "storm" => await StormScenario.RunAsync(o, report, cts.Token),
    "roster" => await RosterScenario.RunAsync(o, report, cts.Token),
    "presence" => await PresenceScenario.RunAsync(o, report, cts.Token),
    "muc" => await MucScenario.RunAsync(o, report, cts.Token),
    _ => await ChatScenario.RunAsync(o, report, cts.Token),
};
o.ScramCache?.Save();
report.Print();
return code;
