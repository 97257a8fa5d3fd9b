using Parley.Client;

// Answers every chat message. Run: PARLEY_JID=bot@example.org PARLEY_PASSWORD=secret dotnet run --project samples/HelloBot
await using var bot = new XmppClient(XmppClientOptions.FromEnvironment());
bot.MessageReceived += (_, m) =>
{
    if (m.Type == "chat" && m.Body is { } body && m.From is { } from)
        _ = bot.SendMessageAsync(from, "You said: " + body);
};
await bot.ConnectAsync();
await bot.SendPresenceAsync(status: "Say something");
await bot.Closed;
